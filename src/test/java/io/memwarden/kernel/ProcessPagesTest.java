package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ProcessPagesTest {

    static String vma(String header, long anonKb, long refKb, long lockedKb, String flags) {
        return header + "\n"
                + "Size:              262160 kB\n"
                + "Rss:               " + anonKb + " kB\n"
                + "Referenced:        " + refKb + " kB\n"
                + "Anonymous:         " + anonKb + " kB\n"
                + "Swap:                   0 kB\n"
                + "Locked:            " + lockedKb + " kB\n"
                + "THPeligible:    0\n"
                + "VmFlags: " + flags + "\n";
    }

    @Test
    void keepsOnlyAnonymousPrivateWritableUnlockedMappingsWithResidentMemory() {
        String smaps = vma("563ce64b1000-563ce6646000 r-xp 00049000 fe:00 260723                     /usr/bin/perl", 0,
                1620, 0, "rd ex mr mw me")
                + vma("5637778a0000-5637778a6000 rw-p 00000000 00:00 0 ", 24, 0, 0, "rd wr mr mw me ac")
                + vma("5637b28ad000-5637b28ef000 rw-p 00000000 00:00 0                          [heap]", 256, 60, 0,
                "rd wr mr mw me ac")
                + vma("7f53638fb000-7f53738ff000 rw-p 00000000 00:00 0 ", 262160, 32768, 0, "rd wr mr mw me ac")
                + vma("7f5373994000-7f537399c000 rw-p 00000000 00:00 0 ", 0, 0, 0, "rd wr mr mw me ac") // nothing resident
                + vma("7f5373a00000-7f5373a10000 rw-p 00000000 00:00 0 ", 64, 0, 64, "rd wr mr mw me lo ac") // locked
                + vma("7f5373b00000-7f5373b10000 rw-s 00000000 00:01 1234                       /dev/zero (deleted)", 64, 0,
                0, "rd wr sh mr mw me ms")
                + vma("7f5373d66000-7f5373d68000 rw-p 001d3000 fe:00 339380                     /usr/lib/libc.so.6", 8, 8,
                0, "rd wr mr mw me ac") // file-backed (COW data): not ours to page out
                + vma("7f5373c6a000-7f5373c6e000 r--p 00000000 00:00 0                          [vvar]", 0, 0, 0,
                "rd mr pf io de dd")
                + vma("7ffcf4926000-7ffcf4947000 rw-p 00000000 00:00 0                          [stack]", 20, 8, 0,
                "rd wr mr mw me gd ac");
        assertThat(ProcessPages.parseSmaps(smaps)).containsExactly(
                new ProcessPages.Mapping(0x5637778a0000L, 0x5637778a6000L, 24 << 10, 0),
                new ProcessPages.Mapping(0x5637b28ad000L, 0x5637b28ef000L, 256 << 10, 60 << 10),
                new ProcessPages.Mapping(0x7f53638fb000L, 0x7f53738ff000L, 262160L << 10, 32768L << 10),
                new ProcessPages.Mapping(0x7ffcf4926000L, 0x7ffcf4947000L, 20 << 10, 8 << 10));
    }

    @Test
    void anEmptyOrUnexpectedTextGivesNoMappings() {
        assertThat(ProcessPages.parseSmaps("")).isEmpty();
        assertThat(ProcessPages.parseSmaps("garbage\nmore: garbage\n")).isEmpty();
    }

    @Test
    void pageoutRejectsMismatchedArrays() {
        assertThatThrownBy(() -> ProcessPages.pageout(1, Path.of("/nonexistent"), new long[] {0}, new long[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("starts and lengths");
    }
}
