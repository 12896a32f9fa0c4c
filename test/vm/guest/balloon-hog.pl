#!/usr/bin/perl
# Workload of the vm tier's balloon check: balloon-hog.pl FIRST_BYTES READY_FILE GO_FILE TOTAL_BYTES [STEP_MIB [SECONDS]]
# Holds FIRST_BYTES (every page written with a non-zero byte), writes its pid into READY_FILE, waits (up to 600 s)
# for GO_FILE to exist, then grows by STEP_MIB (default 8) every 0.1 s up to TOTAL_BYTES and sleeps SECONDS
# (default 600). Output is unbuffered: "holding N", "growing", "grown to N".
use strict;
use warnings;
my ($first, $ready, $go, $total, $step, $secs) = @ARGV;
die "usage: balloon-hog.pl FIRST_BYTES READY_FILE GO_FILE TOTAL_BYTES [STEP_MIB [SECONDS]]\n"
    unless defined $total && $first =~ /^\d+$/ && $total =~ /^\d+$/ && $first > 0;
$step //= 8;
$secs //= 600;
$| = 1;
my $MiB = 1024 * 1024;
my @held;
my $have = 0;
while ($have < $first) {
    my $n = $first - $have < 16 * $MiB ? $first - $have : 16 * $MiB;
    push @held, "\x01" x $n;
    $have += $n;
}
print "holding $have\n";
{ open(my $f, ">", "$ready.tmp") or die "$ready.tmp: $!"; print $f "$$\n"; close $f; rename("$ready.tmp", $ready) or die "$ready: $!" }
for (my $i = 0; $i < 6000 && !-e $go; $i++) { select(undef, undef, undef, 0.1) }
print "growing\n";
while ($have < $total) {
    push @held, "\x01" x ($step * $MiB);
    $have += $step * $MiB;
    select(undef, undef, undef, 0.1);
}
print "grown to $have\n";
sleep $secs;
