# workload.pl - a deterministic Perl allocation workload for heaplab's
# preload tests and `make bench-preload`:  perl workload.pl [SCALE]
# Hashes, arrays, strings and regexes; prints a digest, the same under any
# malloc (run with PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0).  SCALE rounds of
# each kind, three a unit; a SCALE below 1 (the tests use a few hundredths)
# is one round with every count scaled down, for policies whose malloc is
# linear in the free blocks.
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

my $scale = shift // 1;
my $rounds = $scale >= 1 ? int(3 * $scale) : 1;
# n, or its share at a SCALE below 1
sub count { my $n = shift; return $scale >= 1 ? $n : (int($n * $scale) || 1) }

my $digest = '';
for my $round (1 .. $rounds) {
    my %h;
    my $n = count(40000);
    for my $i (1 .. $n) {
        $h{"k$i-" . ('y' x ($i % 29))} = [$i, "v" x ($i % 7)];
    }
    delete $h{"k$_-" . ('y' x ($_ % 29))} for grep { $_ % 4 == 0 } 1 .. $n;
    my @keys = sort keys %h;
    my $last = $#keys < 999 ? $#keys : 999;
    my $text = join ',', @keys[0 .. $last];
    my @parts = split /,/, $text;
    (my $t = $text) =~ s/k(\d+)/K$1$1/g;
    my @words = map { sprintf '%08x', ($_ * 2654435761) % 4294967296 } 1 .. count(50000);
    my $joined = join '', sort @words;
    $digest = md5_hex($digest . scalar(@keys) . $t . scalar(@parts) . md5_hex($joined));
}
print "$digest\n";
