package io.memwarden.runner;

import io.memwarden.cgroup.CgroupDriver;
import io.memwarden.cgroup.CgroupTree;
import io.memwarden.cgroup.CgroupWriteException;
import io.memwarden.cgroup.CgroupWriter;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.KubeletCgroupLayout;
import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.cgroup.ProcessMemory;
import io.memwarden.model.CgroupFiles;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.loops.ManagedWorkload;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;
import io.memwarden.policy.Plan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a planned workload on this host: creates a kubelet-shaped cgroup tree (cgroupfs layout) under a parent it
 * owns, below its own memory cgroup, applies the plan's QoS-, pod- and container-level files, and starts each
 * container's command inside its cgroup. The process enters its cgroup before it execs the command (a shell
 * writes its own pid to {@code cgroup.procs}, then execs), so no allocation happens outside it.
 * {@link #close()} kills everything it started and removes every cgroup it created.
 */
public final class StandaloneRunner implements AutoCloseable {
    private final HostFacts host;
    private final Plan plan;
    private final List<PodSpec> pods;
    private final Path logDir;
    private final KubeletCgroupLayout layout = new KubeletCgroupLayout(CgroupDriver.CGROUPFS);
    private final List<Managed> managed = new ArrayList<>();
    private CgroupTree tree;
    private CgroupWriter writer;
    private int started;
    private long rootLimit;
    private boolean dieWithRunner;

    private static final class Managed {
        final String pod;
        final Plan.ContainerPlan plan;
        final ContainerKind kind;
        final Path cgroup;
        final Map<String, String> applied = new LinkedHashMap<>();
        Process process;

        Managed(String pod, Plan.ContainerPlan plan, ContainerKind kind, Path cgroup) {
            this.pod = pod;
            this.plan = plan;
            this.kind = kind;
            this.cgroup = cgroup;
        }
    }

    /** @param logDir where each container's stdout+stderr go ({@code <namespace>_<pod>_<container>.log}) */
    public StandaloneRunner(HostFacts host, Plan plan, List<PodSpec> pods, Path logDir) {
        if (plan.hasErrors()) {
            throw new IllegalArgumentException("refusing to run a plan with errors");
        }
        this.host = host;
        this.plan = plan;
        this.pods = pods;
        this.logDir = logDir;
    }

    /**
     * Confines the whole workload: its root cgroup gets this memory limit (the "node" of a confined scenario, so a
     * pressure test can never drive the host into OOM). 0 = none. Call before {@link #start()}.
     */
    public StandaloneRunner confineTo(long bytes) {
        this.rootLimit = bytes;
        return this;
    }

    /**
     * Makes each container's first process die with this runner's JVM (SIGKILL through the kernel's parent-death
     * signal, {@code PR_SET_PDEATHSIG}, set by util-linux {@code setpriv --pdeathsig KILL} before the command runs),
     * so a runner killed with SIGKILL does not leave its workloads running. The kernel sends the signal when the
     * <em>thread</em> that started the container ends, so call {@link #start()} on a thread that lives as long as
     * the run (the command's main thread). Without {@code setpriv} on the PATH nothing changes (see
     * {@link #parentDeathSignal()}). Processes the commands start themselves are not covered: they stay in the
     * container's cgroup, which the next run reclaims ({@link Leftovers}). Call before {@link #start()}.
     */
    public StandaloneRunner dieWithRunner(boolean on) {
        this.dieWithRunner = on;
        return this;
    }

    /** Whether {@link #dieWithRunner} can work here: util-linux {@code setpriv} is on the PATH. */
    public static boolean parentDeathSignal() {
        return SETPRIV != null;
    }

    private static final String SETPRIV = findOnPath("setpriv");

    private static String findOnPath(String tool) {
        String path = System.getenv("PATH");
        for (String dir : (path == null ? "/usr/bin:/bin" : path).split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return Path.of(dir, tool).toString();
            }
        }
        return null;
    }

    /** The pod specs it runs. */
    public List<PodSpec> pods() {
        return pods;
    }

    /** Its containers and the pods of its plan, as the control loops and the status see a workload. */
    public ManagedWorkload workload() {
        return ManagedWorkload.of(this::snapshot, plan, pods);
    }

    public Path root() {
        return tree == null ? null : tree.root();
    }

    /**
     * Creates the cgroups, applies every value, then starts the containers: per pod, init containers one after the
     * other (each must exit 0), sidecars, then the regular containers. On any failure everything created so far is
     * removed and the error is thrown.
     */
    public void start() throws IOException, CgroupWriteException, InterruptedException {
        try {
            prepare();
            List<Managed> all = new ArrayList<>();
            for (Plan.PodPlan pp : plan.pods()) {
                all.addAll(createPod(pp));
            }
            for (Plan.PodPlan pp : plan.pods()) {
                launchPod(pp, all);
            }
            started = plan.pods().size();
        } catch (IOException | CgroupWriteException | InterruptedException | RuntimeException e) {
            closeAfter(e);
            throw e;
        }
    }

    /**
     * A staged start: creates the workload's root and QoS cgroups (and the root's limit) and starts no pod; then
     * {@link #startNext()} starts the plan's pods one at a time, in plan order (a density scenario adds replicas
     * one by one). On failure everything created so far is removed and the error is thrown.
     */
    public void startStaged() throws IOException, CgroupWriteException {
        try {
            prepare();
        } catch (IOException | CgroupWriteException | RuntimeException e) {
            closeAfter(e);
            throw e;
        }
    }

    /**
     * Creates the next pod's cgroups and starts its containers (after {@link #startStaged()}); returns its
     * {@code namespace/name}, or null when every pod of the plan has started. A failure leaves what was created for
     * {@link #close()}.
     */
    public String startNext() throws IOException, CgroupWriteException, InterruptedException {
        if (tree == null) {
            throw new IllegalStateException("startStaged() first");
        }
        if (started >= plan.pods().size()) {
            return null;
        }
        Plan.PodPlan pp = plan.pods().get(started++);
        launchPod(pp, createPod(pp));
        return pp.namespace() + "/" + pp.name();
    }

    private void prepare() throws IOException, CgroupWriteException {
        for (PodSpec p : pods) {
            for (ContainerSpec c : p.containers()) {
                if (c.command().isEmpty()) {
                    throw new IllegalArgumentException(p.key() + " container " + c.name()
                            + ": the standalone runner needs a command (spec.containers[].command/args)");
                }
            }
        }
        Files.createDirectories(logDir);
        // named after this process and its start time: the next run can tell this tree's owner is gone (Leftovers)
        tree = CgroupTree.create(host.ownMemoryCgroup(), RunOwner.current().name(Leftovers.RUN_PREFIX),
                host.memoryController() == CgroupVersion.V2);
        writer = new CgroupWriter(host.memoryController(), host.pageSize());
        if (rootLimit > 0) {
            writer.apply(tree.root(), Map.of(host.memoryController() == CgroupVersion.V1
                    ? CgroupFiles.V1_LIMIT : CgroupFiles.MEMORY_MAX, Long.toString(rootLimit)));
        }
        for (var e : plan.node().qosCgroups().entrySet()) {
            writer.apply(tree.mkdirs(e.getKey()), e.getValue());
        }
    }

    private List<Managed> createPod(Plan.PodPlan pp) throws IOException, CgroupWriteException {
        List<Managed> mine = new ArrayList<>();
        PodSpec spec = spec(pp);
        QosClass qos = QosClass.fromApiName(pp.qosClass());
        String uid = spec.uid().isEmpty() ? pp.namespace() + "_" + pp.name() : spec.uid();
        Path podCg = tree.mkdirs(layout.podCgroup(qos, uid));
        writer.apply(podCg, pp.podCgroup());
        for (Plan.ContainerPlan cp : pp.containers()) {
            ContainerSpec cs = spec.containers().stream().filter(c -> c.name().equals(cp.name())).findFirst()
                    .orElseThrow();
            Path cg = tree.mkdirs(layout.containerCgroup(qos, uid, "memwarden", cp.name()));
            Managed m = new Managed(pp.namespace() + "/" + pp.name(), cp, cs.kind(), cg);
            m.applied.putAll(cp.cgroup());
            writer.apply(cg, cp.cgroup());
            synchronized (this) {
                managed.add(m);
            }
            mine.add(m);
        }
        return mine;
    }

    private void launchPod(Plan.PodPlan pp, List<Managed> candidates) throws IOException, InterruptedException {
        PodSpec spec = spec(pp);
        for (Managed m : candidates) {
            if (!m.pod.equals(pp.namespace() + "/" + pp.name())) {
                continue;
            }
            ContainerSpec cs = spec.containers().stream().filter(c -> c.name().equals(m.plan.name())).findFirst()
                    .orElseThrow();
            m.process = launch(pp, m, cs);
            if (m.kind == ContainerKind.INIT) {
                int rc = m.process.waitFor();
                if (rc != 0) {
                    throw new IOException(m.pod + " init container " + m.plan.name() + " exited with " + rc
                            + " (log: " + log(pp, m) + ")");
                }
            }
        }
    }

    private <E extends Exception> void closeAfter(E e) {
        // an interrupt (a stop signal) must not cut the cleanup's waits short
        boolean interrupted = Thread.interrupted() || e instanceof InterruptedException;
        try {
            close();
        } catch (IOException suppressed) {
            e.addSuppressed(suppressed);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private PodSpec spec(Plan.PodPlan pp) {
        return pods.stream().filter(p -> p.namespace().equals(pp.namespace()) && p.name().equals(pp.name()))
                .findFirst().orElseThrow(() -> new IllegalStateException("no spec for planned pod " + pp.name()));
    }

    private Path log(Plan.PodPlan pp, Managed m) {
        return logDir.resolve(pp.namespace() + "_" + pp.name() + "_" + m.plan.name() + ".log");
    }

    private Process launch(Plan.PodPlan pp, Managed m, ContainerSpec cs) throws IOException {
        List<String> argv = new ArrayList<>();
        if (dieWithRunner && SETPRIV != null) {
            argv.addAll(List.of(SETPRIV, "--pdeathsig", "KILL", "--"));
        }
        argv.add("/bin/sh");
        argv.add("-c");
        // enter the cgroup first, then become the command: no allocation happens outside the cgroup. With the
        // parent-death signal: the runner may have died before setpriv set it (then no signal comes): the parent pid
        // (field 4 of /proc/self/stat; sh's own name, "sh", has no blank) must still be the runner's
        argv.add(dieWithRunner && SETPRIV != null
                ? "echo $$ > \"$0\" && read -r _ _ _ ppid _ < /proc/$$/stat && [ \"$ppid\" = \"$1\" ] && shift"
                        + " && exec \"$@\""
                : "echo $$ > \"$0\" && exec \"$@\"");
        argv.add(m.cgroup.resolve(CgroupFiles.CGROUP_PROCS).toString());
        if (dieWithRunner && SETPRIV != null) {
            argv.add(Long.toString(ProcessHandle.current().pid()));
        }
        argv.addAll(cs.command());
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.to(log(pp, m).toFile()));
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        return pb.start();
    }

    /** The log file of a container ({@code namespace/name} of its pod). */
    public Path logOf(String pod, String container) {
        String[] nsName = pod.split("/", 2);
        return logDir.resolve(nsName[0] + "_" + nsName[1] + "_" + container + ".log");
    }

    /** A snapshot of every container (init containers included). */
    public List<ContainerStatus> snapshot() {
        List<ContainerStatus> out = new ArrayList<>();
        List<Managed> now;
        synchronized (this) {
            now = List.copyOf(managed);
        }
        for (Managed m : now) {
            Integer exit = null;
            long pid = -1;
            ProcessMemory pm = null;
            if (m.process != null) {
                pid = m.process.pid();
                if (!m.process.isAlive()) {
                    exit = m.process.exitValue();
                } else {
                    try {
                        pm = ProcessMemory.read(Path.of("/proc"), pid);
                    } catch (IOException e) {
                        pm = null;
                    }
                }
            }
            MemoryUsage u = null;
            try {
                if (Files.isDirectory(m.cgroup)) {
                    u = MemoryUsage.read(m.cgroup, host.memoryController());
                }
            } catch (IOException | RuntimeException e) {
                u = null;
            }
            out.add(new ContainerStatus(m.pod, m.plan.name(), m.kind != ContainerKind.REGULAR, m.plan.swapBehavior(),
                    m.cgroup, m.applied, pid, exit, u, pm));
        }
        return out;
    }

    /** True when no regular container is running any more. */
    public boolean finished() {
        return managed.stream().filter(m -> m.kind == ContainerKind.REGULAR)
                .noneMatch(m -> m.process != null && m.process.isAlive());
    }

    /** Waits until every regular container's process exited or {@code timeout} passed. */
    public boolean awaitFinished(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!finished()) {
            if (System.nanoTime() > end) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
    }

    /** Kills every process it started and removes every cgroup it created. */
    @Override
    public synchronized void close() throws IOException {
        for (Managed m : managed) {
            if (m.process != null && m.process.isAlive()) {
                m.process.destroyForcibly();
            }
        }
        if (tree != null) {
            tree.close();
        }
        for (Managed m : managed) {
            if (m.process != null) {
                try {
                    m.process.waitFor();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
