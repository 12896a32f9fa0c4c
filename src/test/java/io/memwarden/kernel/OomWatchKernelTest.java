package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.cgroup.CgroupTree;
import io.memwarden.cgroup.CgroupWriter;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.KernelAssumptions;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.OomEvent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A real memcg OOM kill, seen through /dev/kmsg by the kubelet-compatible parser (kernel tier). */
@Tag("kernel")
class OomWatchKernelTest {

    @Test
    void seesAMemcgOomKillInItsOwnCgroup() throws Exception {
        HostFacts h = KernelAssumptions.requireMemoryCgroup();
        try (Kmsg kmsg = Kmsg.open(true); CgroupTree t = KernelAssumptions.newTree(h)) {
            Path cg = t.mkdirs("oom");
            Map<String, String> files = new LinkedHashMap<>();
            if (h.memoryController() == CgroupVersion.V1) {
                files.put("memory.limit_in_bytes", "33554432");
                if (h.swapAccounting()) {
                    files.put("memory.memsw.limit_in_bytes", "33554432");
                }
                files.put("memory.swappiness", "0");
            } else {
                files.put("memory.max", "33554432");
                files.put("memory.swap.max", "0");
            }
            new CgroupWriter(h.memoryController(), h.pageSize()).apply(cg, files);
            Process hog = new ProcessBuilder("/bin/sh", "-c", "echo $$ > \"$0\" && exec perl -e '$n=64*1024*1024;"
                    + " $x=\"\"; vec($x,$n-1,8)=0; for($i=0;$i<$n;$i+=4096){vec($x,$i,8)=1} sleep 60'",
                    cg.resolve("cgroup.procs").toString()).start();
            assertThat(hog.waitFor()).isEqualTo(137);
            List<OomEvent> events = new ArrayList<>();
            OomParser parser = new OomParser();
            long end = System.nanoTime() + 5_000_000_000L;
            while (events.stream().noneMatch(e -> e.pid() == hog.pid()) && System.nanoTime() < end) {
                for (KmsgEntry r : kmsg.drain()) {
                    parser.feed(r, new OomParser.Listener() {
                        @Override
                        public void kill(long number, OomEvent e) {
                            events.add(e);
                        }

                        @Override
                        public void skipped(long number, BadKmsgRecord why) {
                            // the host's log: not this test's business
                        }
                    });
                }
                kmsg.await(200);
            }
            String rel = "/" + h.memoryMount().relativize(cg);
            assertThat(events).filteredOn(e -> e.pid() == hog.pid()).singleElement().satisfies(e -> {
                assertThat(e.process()).isEqualTo("perl");
                assertThat(e.systemOom()).isFalse();
                assertThat(e.victimCgroup()).isEqualTo(rel);
                assertThat(e.containerCgroup()).isEqualTo(rel);
                assertThat(e.constraint()).isEqualTo("CONSTRAINT_MEMCG");
            });
        }
    }
}
