package io.memwarden.density;

import io.memwarden.model.ClusterNode;
import io.memwarden.model.Scheduling;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Places pods on nodes one at a time, in the given queue order, as the kube-scheduler's filters and default score
 * would (docs/density.md):
 * <ul>
 *   <li>a bound pod ({@code spec.nodeName}) stays on its node whatever it holds;</li>
 *   <li>a pinned pod (a DaemonSet's, for one node) is checked on that node only;</li>
 *   <li>any other pod goes to the node that passes every filter (taints, node affinity/selector, NodeResourcesFit:
 *       memory, cpu, pods) with the highest NodeResourcesFit {@code LeastAllocated} score (cpu and memory weight 1,
 *       integer arithmetic as the scheduler's), ties broken by the lowest node name (the scheduler breaks them at
 *       random).</li>
 * </ul>
 * Scale: nodes are indexed per distinct label/taint constraint of the pods (computed once per constraint); for each
 * constraint a segment tree over its eligible nodes keeps the most free memory, cpu and pod slots and an upper bound
 * of the score per subtree, so finding the best node is a pruned descent instead of a scan of every node. Only the
 * reason for an unplaced pod looks at every node (the scheduler's message counts them), cached until the next
 * placement.
 */
public final class Packing {

    /**
     * One pod to place.
     *
     * @param request    what NodeResourcesFit checks and adds to the node
     * @param scoring    the request with the scheduler's non-zero defaults, for the score
     * @param pinnedNode a DaemonSet pod's node, else null
     */
    public record PodToPlace(String namespace, String name, Scheduling scheduling, Request request, Request scoring,
                             String pinnedNode) {}

    /**
     * The result.
     *
     * @param nodeOf   per pod (in the given order): the node index, or -1 when unplaced
     * @param reasons  per pod: why it is unplaced, null when placed
     */
    public record Outcome(int[] nodeOf, String[] reasons, long[] requestedMemory, long[] requestedCpuMillis,
                          int[] pods) {
        public int placed() {
            int n = 0;
            for (int i : nodeOf) {
                n += i >= 0 ? 1 : 0;
            }
            return n;
        }
    }

    private final List<ClusterNode> nodes;
    private final Map<String, Integer> byName = new HashMap<>();
    private final long[] allocMem;
    private final long[] allocCpu;
    private final long[] allocPods;
    private final long[] reqMem;
    private final long[] reqCpu;
    private final long[] scoreMem;
    private final long[] scoreCpu;
    private final int[] pods;
    /** Per node: the trees it is a leaf of, and its leaf position in each. */
    private final List<List<long[]>> memberships;
    private final List<Tree> trees = new ArrayList<>();
    private final Map<Scheduling, Eligibility> eligibility = new HashMap<>();
    private final Map<IntArray, Tree> treeBySet = new HashMap<>();
    private final Map<ReasonKey, String> reasonCache = new HashMap<>();
    private long version;

    /** @param nodes sorted by name (the tie-break order) */
    private Packing(List<ClusterNode> nodes) {
        this.nodes = nodes;
        int n = nodes.size();
        allocMem = new long[n];
        allocCpu = new long[n];
        allocPods = new long[n];
        reqMem = new long[n];
        reqCpu = new long[n];
        scoreMem = new long[n];
        scoreCpu = new long[n];
        pods = new int[n];
        memberships = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ClusterNode c = nodes.get(i);
            if (byName.put(c.name(), i) != null) {
                throw new IllegalArgumentException("duplicate node " + c.name());
            }
            if (i > 0 && nodes.get(i - 1).name().compareTo(c.name()) > 0) {
                throw new IllegalArgumentException("nodes must be sorted by name");
            }
            allocMem[i] = c.allocatableMemory();
            allocCpu[i] = c.allocatableCpuMillis();
            allocPods[i] = c.allocatablePods();
            memberships.add(new ArrayList<>(2));
        }
    }

    /** Places {@code queue} in order on {@code nodes} (sorted by name). Pure and deterministic. */
    public static Outcome place(List<ClusterNode> nodes, List<PodToPlace> queue) {
        Packing p = new Packing(nodes);
        int[] nodeOf = new int[queue.size()];
        String[] reasons = new String[queue.size()];
        for (int i = 0; i < queue.size(); i++) {
            PodToPlace pod = queue.get(i);
            int at;
            String bound = pod.scheduling().nodeName();
            if (bound != null) {
                Integer idx = p.byName.get(bound);
                at = idx == null ? -1 : idx;
                if (idx == null) {
                    reasons[i] = "bound to node \"" + bound + "\", which is not in the nodes file";
                }
            } else if (pod.pinnedNode() != null) {
                at = p.pinned(pod);
                if (at < 0) {
                    reasons[i] = p.pinnedReason(pod);
                }
            } else {
                Eligibility e = p.eligibility(pod.scheduling());
                at = p.best(e, pod.request(), pod.scoring());
                if (at < 0) {
                    reasons[i] = p.reason(e, pod.request());
                }
            }
            nodeOf[i] = at;
            if (at >= 0) {
                p.add(at, pod);
            }
        }
        return new Outcome(nodeOf, reasons, p.reqMem.clone(), p.reqCpu.clone(), p.pods.clone());
    }

    private void add(int node, PodToPlace pod) {
        reqMem[node] += pod.request().memory();
        reqCpu[node] += pod.request().cpuMillis();
        scoreMem[node] += pod.scoring().memory();
        scoreCpu[node] += pod.scoring().cpuMillis();
        pods[node]++;
        version++;
        for (long[] m : memberships.get(node)) {
            trees.get((int) m[0]).update(this, (int) m[1]);
        }
    }

    boolean fits(int node, Request r) {
        return pods[node] + 1 <= allocPods[node]
                && (r.memory() == 0 || reqMem[node] + r.memory() <= allocMem[node])
                && (r.cpuMillis() == 0 || reqCpu[node] + r.cpuMillis() <= allocCpu[node]);
    }

    /** NodeResourcesFit's reasons for one node, in the plugin's order (pods, cpu, memory). */
    private void fitReasons(int node, Request r, Map<String, Integer> counts) {
        if (pods[node] + 1 > allocPods[node]) {
            counts.merge("Too many pods", 1, Integer::sum);
        }
        if (r.cpuMillis() > 0 && reqCpu[node] + r.cpuMillis() > allocCpu[node]) {
            counts.merge("Insufficient cpu", 1, Integer::sum);
        }
        if (r.memory() > 0 && reqMem[node] + r.memory() > allocMem[node]) {
            counts.merge("Insufficient memory", 1, Integer::sum);
        }
    }

    /** The LeastAllocated score of a node with this pod added: the scheduler's integer arithmetic. */
    int score(int node, Request scoring) {
        long m = least(scoreMem[node] + scoring.memory(), allocMem[node]);
        long c = least(scoreCpu[node] + scoring.cpuMillis(), allocCpu[node]);
        return (int) ((m + c) / 2);
    }

    private static long least(long requested, long capacity) {
        if (capacity <= 0 || requested > capacity) {
            return 0;
        }
        return Math.multiplyHigh(capacity - requested, 100) == 0 && (capacity - requested) <= Long.MAX_VALUE / 100
                ? (capacity - requested) * 100 / capacity
                : (long) ((double) (capacity - requested) / capacity * 100);
    }

    private int pinned(PodToPlace pod) {
        Integer idx = byName.get(pod.pinnedNode());
        if (idx == null || NodeFilters.reject(pod.scheduling(), nodes.get(idx)) != null || !fits(idx, pod.request())) {
            return -1;
        }
        return idx;
    }

    private String pinnedReason(PodToPlace pod) {
        Map<String, Integer> counts = new TreeMap<>();
        Integer idx = byName.get(pod.pinnedNode());
        int others = nodes.size();
        if (idx != null) {
            others--;
            String r = NodeFilters.reject(pod.scheduling(), nodes.get(idx));
            if (r != null) {
                counts.merge(r, 1, Integer::sum);
            } else {
                fitReasons(idx, pod.request(), counts);
            }
        }
        if (others > 0) {
            counts.merge(NodeFilters.AFFINITY_REASON, others, Integer::sum);
        }
        return message(counts);
    }

    private String reason(Eligibility e, Request r) {
        ReasonKey key = new ReasonKey(e, r, version);
        String cached = reasonCache.get(key);
        if (cached != null) {
            return cached;
        }
        Map<String, Integer> counts = new TreeMap<>(e.rejected);
        int tooMany = 0;
        int cpu = 0;
        int mem = 0;
        for (int node : e.nodes) {
            tooMany += pods[node] + 1 > allocPods[node] ? 1 : 0;
            cpu += r.cpuMillis() > 0 && reqCpu[node] + r.cpuMillis() > allocCpu[node] ? 1 : 0;
            mem += r.memory() > 0 && reqMem[node] + r.memory() > allocMem[node] ? 1 : 0;
        }
        // NodeResourcesFit's reasons, as fitReasons words them
        if (tooMany > 0) {
            counts.merge("Too many pods", tooMany, Integer::sum);
        }
        if (cpu > 0) {
            counts.merge("Insufficient cpu", cpu, Integer::sum);
        }
        if (mem > 0) {
            counts.merge("Insufficient memory", mem, Integer::sum);
        }
        String m = message(counts);
        if (reasonCache.size() > 10_000) {
            reasonCache.clear();
        }
        reasonCache.put(key, m);
        return m;
    }

    /** The scheduler's FitError text: "0/N nodes are available: " and the sorted "count reason" strings. */
    private String message(Map<String, Integer> counts) {
        List<String> parts = new ArrayList<>();
        counts.forEach((reason, n) -> parts.add(n + " " + reason));
        parts.sort(null);
        return "0/" + nodes.size() + " nodes are available: " + String.join(", ", parts) + ".";
    }

    private record ReasonKey(Eligibility e, Request r, long version) {}

    /** The nodes a constraint admits (by labels and taints), with the reasons of the others counted. */
    private static final class Eligibility {
        final int[] nodes;
        final Map<String, Integer> rejected;
        /** One tree per node shape (allocatable memory and cpu) among the eligible nodes. */
        final List<Tree> trees;

        Eligibility(int[] nodes, Map<String, Integer> rejected, List<Tree> trees) {
            this.nodes = nodes;
            this.rejected = rejected;
            this.trees = trees;
        }
    }

    private Eligibility eligibility(Scheduling s) {
        Eligibility e = eligibility.get(s);
        if (e != null) {
            return e;
        }
        int[] ok = new int[nodes.size()];
        int n = 0;
        Map<String, Integer> rejected = new TreeMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            String r = NodeFilters.reject(s, nodes.get(i));
            if (r == null) {
                ok[n++] = i;
            } else {
                rejected.merge(r, 1, Integer::sum);
            }
        }
        int[] set = Arrays.copyOf(ok, n);
        // nodes of one shape share a tree, so the score bound of a subtree is tight
        Map<List<Long>, List<Integer>> shapes = new java.util.LinkedHashMap<>();
        for (int i : set) {
            shapes.computeIfAbsent(List.of(allocMem[i], allocCpu[i]), k -> new ArrayList<>()).add(i);
        }
        List<Tree> ts = new ArrayList<>();
        for (List<Integer> members : shapes.values()) {
            int[] sub = members.stream().mapToInt(Integer::intValue).toArray();
            IntArray key = new IntArray(sub);
            Tree tree = treeBySet.get(key);
            if (tree == null) {
                tree = new Tree(this, trees.size(), sub);
                trees.add(tree);
                treeBySet.put(key, tree);
            }
            ts.add(tree);
        }
        e = new Eligibility(set, rejected, ts);
        eligibility.put(s, e);
        return e;
    }

    /** The best node over every tree of the constraint: highest score, then lowest node index. */
    private int best(Eligibility e, Request r, Request scoring) {
        int node = -1;
        int score = -1;
        for (Tree t : e.trees) {
            if (t.best(this, r, scoring, node, score) >= 0) {
                node = t.bestNode;
                score = t.bestScore;
            }
        }
        return node;
    }

    private record IntArray(int[] a) {
        @Override
        public boolean equals(Object o) {
            return o instanceof IntArray other && Arrays.equals(a, other.a);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(a);
        }
    }

    /**
     * A segment tree over a set of nodes (leaves in node order). Each subtree keeps the most free memory, cpu and
     * pod slots of its nodes, and for the score bound the largest free fraction (by the scoring requests) and the
     * largest allocatable of each resource.
     */
    private static final class Tree {
        private final int[] leaves;
        private final int size;
        private final long[] freeMem;
        private final long[] freeCpu;
        private final long[] freePods;
        private final double[] fracMem;
        private final double[] fracCpu;
        private final long[] maxAllocMem;
        private final long[] maxAllocCpu;

        Tree(Packing p, int id, int[] leaves) {
            this.leaves = leaves;
            int s = 1;
            while (s < leaves.length) {
                s <<= 1;
            }
            size = s;
            freeMem = new long[2 * s];
            freeCpu = new long[2 * s];
            freePods = new long[2 * s];
            fracMem = new double[2 * s];
            fracCpu = new double[2 * s];
            maxAllocMem = new long[2 * s];
            maxAllocCpu = new long[2 * s];
            Arrays.fill(freeMem, Long.MIN_VALUE);
            Arrays.fill(freeCpu, Long.MIN_VALUE);
            Arrays.fill(freePods, Long.MIN_VALUE);
            Arrays.fill(fracMem, Double.NEGATIVE_INFINITY);
            Arrays.fill(fracCpu, Double.NEGATIVE_INFINITY);
            for (int i = 0; i < leaves.length; i++) {
                int node = leaves[i];
                p.memberships.get(node).add(new long[] {id, i});
                maxAllocMem[s + i] = p.allocMem[node];
                maxAllocCpu[s + i] = p.allocCpu[node];
                setLeaf(p, i);
            }
            for (int v = s - 1; v >= 1; v--) {
                maxAllocMem[v] = Math.max(maxAllocMem[2 * v], maxAllocMem[2 * v + 1]);
                maxAllocCpu[v] = Math.max(maxAllocCpu[2 * v], maxAllocCpu[2 * v + 1]);
                pull(v);
            }
        }

        private void setLeaf(Packing p, int i) {
            int node = leaves[i];
            int v = size + i;
            freeMem[v] = p.allocMem[node] - p.reqMem[node];
            freeCpu[v] = p.allocCpu[node] - p.reqCpu[node];
            freePods[v] = p.allocPods[node] - p.pods[node];
            fracMem[v] = frac(p.allocMem[node], p.scoreMem[node]);
            fracCpu[v] = frac(p.allocCpu[node], p.scoreCpu[node]);
        }

        private static double frac(long alloc, long used) {
            return alloc <= 0 ? 0 : (double) (alloc - used) / alloc;
        }

        private void pull(int v) {
            freeMem[v] = Math.max(freeMem[2 * v], freeMem[2 * v + 1]);
            freeCpu[v] = Math.max(freeCpu[2 * v], freeCpu[2 * v + 1]);
            freePods[v] = Math.max(freePods[2 * v], freePods[2 * v + 1]);
            fracMem[v] = Math.max(fracMem[2 * v], fracMem[2 * v + 1]);
            fracCpu[v] = Math.max(fracCpu[2 * v], fracCpu[2 * v + 1]);
        }

        void update(Packing p, int leaf) {
            setLeaf(p, leaf);
            for (int v = (size + leaf) >> 1; v >= 1; v >>= 1) {
                pull(v);
            }
        }

        int bestNode;
        int bestScore;

        /**
         * The node of this tree that fits with the highest score, lowest index among equals, if it beats {@code
         * node}/{@code score} (the best of other trees so far); else -1.
         */
        int best(Packing p, Request r, Request scoring, int node, int score) {
            bestNode = node;
            bestScore = score;
            search(p, 1, r, scoring);
            return bestNode != node ? bestNode : -1;
        }

        private void search(Packing p, int v, Request r, Request scoring) {
            if (freePods[v] < 1 || (r.memory() > 0 && freeMem[v] < r.memory())
                    || (r.cpuMillis() > 0 && freeCpu[v] < r.cpuMillis())) {
                return;
            }
            if (bestNode >= 0) {
                int b = bound(v, scoring);
                if (b < bestScore || (b == bestScore && leftmost(v) > bestNode)) {
                    return; // nothing here can beat the best so far
                }
            }
            if (v >= size) {
                int node = leaves[v - size];
                if (p.fits(node, r)) {
                    int s = p.score(node, scoring);
                    if (s > bestScore || (s == bestScore && node < bestNode)) {
                        bestScore = s;
                        bestNode = node;
                    }
                }
                return;
            }
            // the child with the higher bound first: the best is found early and prunes the rest
            if (bound(2 * v + 1, scoring) > bound(2 * v, scoring)) {
                search(p, 2 * v + 1, r, scoring);
                search(p, 2 * v, r, scoring);
            } else {
                search(p, 2 * v, r, scoring);
                search(p, 2 * v + 1, r, scoring);
            }
        }

        /** The lowest node index in subtree v (leaves are in node order). */
        private int leftmost(int v) {
            while (v < size) {
                v <<= 1;
            }
            return v - size < leaves.length ? leaves[v - size] : Integer.MAX_VALUE;
        }

        /**
         * An upper bound of any score in subtree v. Per resource, max(free fraction) − request / max(allocatable) is
         * at least every node's real-valued resource score; the scheduler floors each resource score before
         * averaging, so the bound does too (with a little slack for floating-point error).
         */
        private int bound(int v, Request scoring) {
            long m = part(fracMem[v], scoring.memory(), maxAllocMem[v]);
            long c = part(fracCpu[v], scoring.cpuMillis(), maxAllocCpu[v]);
            return (int) ((m + c) / 2);
        }

        private static long part(double frac, long request, long maxAlloc) {
            if (maxAlloc <= 0) {
                return 0;
            }
            return Math.max(0, (long) Math.floor(100 * frac - 100.0 * request / maxAlloc + 1e-7));
        }
    }
}
