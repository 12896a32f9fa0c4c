package io.memwarden.model;

/** The cgroup hierarchy version that holds the memory controller. */
public enum CgroupVersion {
    V1(1),
    V2(2);

    private final int number;

    CgroupVersion(int number) {
        this.number = number;
    }

    public int number() {
        return number;
    }

    public static CgroupVersion of(int number) {
        return switch (number) {
            case 1 -> V1;
            case 2 -> V2;
            default -> throw new IllegalArgumentException("cgroup version must be 1 or 2, got " + number);
        };
    }
}
