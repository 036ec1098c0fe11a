// Command mutate is a mutation check of the packages that decide access
// and exposure: it flips one condition at a time in a package's non-test
// Go files (see Mutations), runs that package's tests against the mutant,
// and reports each mutant the tests killed (they failed) or that survived
// (they passed: no test notices the flip), survivors with file:line.
//
// The source tree is never written: each mutant is a file in a temporary
// directory that `go test -overlay` reads in place of the original, so an
// interrupted run leaves nothing to restore and other work in the tree is
// undisturbed.
//
// Usage, from the module's root:
//
//	go run ./internal/tools/mutate [-sample N] [-seed S] [-budget D] [-timeout D] [package ...]
//
// Without packages it checks internal/authz, internal/policy,
// internal/armhttp and internal/netmodel. Each mutant costs a compile and
// link of the package's test binary (seconds), so -sample takes N mutants
// of each package, chosen by -seed, and -budget stops starting mutants
// after that much time; packages take turns, so a budget cut shares out
// evenly. The order is deterministic: the same tree, flags and seed run
// the same mutants in the same order.
//
// It is a developer's and CI's tool (.ci/run runs it without gating),
// not part of the armlet binary.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// accessPackages are the packages checked when none is named: those that
// decide who may do what and what is exposed where.
func accessPackages() []string {
	return []string{"./internal/authz", "./internal/policy", "./internal/armhttp", "./internal/netmodel"}
}

func main() {
	// Interrupted, the run's context ends the go test in flight (its whole
	// process group) and run removes its temporary directory.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}

type options struct {
	sample  int
	seed    uint64
	budget  time.Duration
	timeout time.Duration
	list    bool
	verbose bool
	pkgs    []string
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("mutate", flag.ContinueOnError)
	var o options
	fs.IntVar(&o.sample, "sample", 0, "mutants per package, chosen by -seed (0: all)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the sample")
	fs.DurationVar(&o.budget, "budget", 0, "start no mutant after this much time (0: no limit)")
	fs.DurationVar(&o.timeout, "timeout", 0, "time for one mutant's build and tests, beyond which it counts as killed (0: twice the package's unmutated run plus 20 s)")
	fs.BoolVar(&o.verbose, "v", false, "print every mutant's outcome, not only the survivors")
	fs.BoolVar(&o.list, "list", false, "list the mutants that would run, run nothing")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.sample < 0 {
		return o, errors.New("-sample must be 0 or more")
	}
	o.pkgs = fs.Args()
	if len(o.pkgs) == 0 {
		o.pkgs = accessPackages()
	}
	return o, nil
}

// outcome of one mutant.
type outcome int

const (
	killed   outcome = iota // the tests failed
	timedOut                // the tests ran past -timeout: counted as killed
	survived                // the tests passed
	notBuilt                // the mutant did not compile: counted in no total
	notRun                  // the budget ran out first
	numOutcomes
)

func (o outcome) String() string {
	return [...]string{"killed", "killed (timeout)", "survived", "not compiled", "not run"}[o]
}

// pkgRun is one package's mutants and their outcomes.
type pkgRun struct {
	pkg      string
	timeout  time.Duration // of one mutant
	sites    int           // mutants the package has
	mutants  []mutation
	outcomes []outcome
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	var runs []*pkgRun
	for _, pkg := range o.pkgs {
		all, err := packageMutations(ctx, pkg)
		if err != nil {
			return err
		}
		r := &pkgRun{pkg: pkg, sites: len(all), mutants: sample(all, o.sample, o.seed)}
		r.outcomes = make([]outcome, len(r.mutants))
		for i := range r.outcomes {
			r.outcomes[i] = notRun
		}
		runs = append(runs, r)
	}
	if o.list {
		for _, r := range runs {
			for _, m := range r.mutants {
				fmt.Fprintln(stdout, m)
			}
		}
		return nil
	}
	tmp, err := os.MkdirTemp("", "armlet-mutate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// A package whose tests fail unmutated would kill every mutant. The
	// unmutated run also sets the package's time limit: a mutant that makes
	// a loop endless is killed by it, so it must not be generous.
	for _, r := range runs {
		baseline := o.timeout
		if baseline == 0 {
			baseline = 5 * time.Minute
		}
		began := time.Now()
		if out, res := goTest(ctx, r.pkg, "", baseline); res != survived {
			return fmt.Errorf("the tests of %s fail without a mutation (%s):\n%s", r.pkg, res, out)
		}
		r.timeout = o.timeout
		if r.timeout == 0 {
			r.timeout = 2*time.Since(began) + 20*time.Second
		}
	}

	start := time.Now()
	// Packages take turns, one mutant each, so that a budget cut leaves
	// every package some mutants run.
	// Interrupted, the mutants run so far are still reported (the one in
	// flight counts as not run).
turns:
	for i := 0; ; i++ {
		ranAny := false
		for _, r := range runs {
			if i >= len(r.mutants) {
				continue
			}
			ranAny = true
			if o.budget > 0 && time.Since(start) >= o.budget {
				continue
			}
			res, err := runMutant(ctx, tmp, r.pkg, r.mutants[i], r.timeout)
			if err != nil {
				return err
			}
			if ctx.Err() != nil {
				break turns
			}
			r.outcomes[i] = res
			if res == survived || o.verbose {
				fmt.Fprintf(stdout, "%s: %s\n", res, rel(r.mutants[i]))
			}
		}
		if !ranAny {
			break
		}
	}
	report(stdout, runs, o, time.Since(start))
	return ctx.Err()
}

// rel names a mutant with its path relative to the working directory.
func rel(m mutation) string {
	if wd, err := os.Getwd(); err == nil {
		if p, err := filepath.Rel(wd, m.File); err == nil {
			m.File = p
		}
	}
	return m.String()
}

func report(w io.Writer, runs []*pkgRun, o options, took time.Duration) {
	var total [numOutcomes]int
	sampling := "all mutants"
	if o.sample > 0 {
		sampling = fmt.Sprintf("a sample of %d per package, seed %d", o.sample, o.seed)
	}
	fmt.Fprintf(w, "mutation check (%s", sampling)
	if o.budget > 0 {
		fmt.Fprintf(w, ", budget %s", o.budget)
	}
	fmt.Fprintf(w, ", took %s):\n", took.Round(time.Second))
	for _, r := range runs {
		var c [numOutcomes]int
		for _, res := range r.outcomes {
			c[res]++
			total[res]++
		}
		fmt.Fprintf(w, "  %-22s %4d mutants, %3d run: %3d killed, %3d survived, %d not compiled, %d not run\n",
			r.pkg, r.sites, len(r.mutants)-c[notRun], c[killed]+c[timedOut], c[survived], c[notBuilt], c[notRun])
	}
	run := -total[notRun]
	for _, r := range runs {
		run += len(r.mutants)
	}
	fmt.Fprintf(w, "  total: %d run, %d killed (%d by timeout), %d survived, %d not compiled, %d not run\n",
		run, total[killed]+total[timedOut], total[timedOut], total[survived], total[notBuilt], total[notRun])
}

// packageMutations lists the mutations of a package's non-test Go files
// (those of the current platform, as go list names them), file by file in
// name order.
func packageMutations(ctx context.Context, pkg string) ([]mutation, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-json=Dir,GoFiles", pkg).Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %w", pkg, err)
	}
	var p struct {
		Dir     string
		GoFiles []string
	}
	if err := json.Unmarshal(out, &p); err != nil {
		return nil, fmt.Errorf("go list %s: %w", pkg, err)
	}
	slices.Sort(p.GoFiles)
	var all []mutation
	for _, name := range p.GoFiles {
		path := filepath.Join(p.Dir, name)
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		ms, err := Mutations(path, src)
		if err != nil {
			return nil, err
		}
		all = append(all, ms...)
	}
	return all, nil
}

// sample returns n of the mutations chosen by seed, in their original
// order (all of them when n is 0 or at least their number).
func sample(all []mutation, n int, seed uint64) []mutation {
	if n == 0 || n >= len(all) {
		return all
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	picked := rng.Perm(len(all))[:n]
	slices.Sort(picked)
	out := make([]mutation, n)
	for i, j := range picked {
		out[i] = all[j]
	}
	return out
}

// runMutant writes the mutant and an overlay naming it into dir and runs
// the package's tests with it.
func runMutant(ctx context.Context, dir, pkg string, m mutation, timeout time.Duration) (outcome, error) {
	mutant, err := m.Apply(m.src)
	if err != nil {
		return 0, err
	}
	file := filepath.Join(dir, filepath.Base(m.File))
	if err := os.WriteFile(file, mutant, 0o600); err != nil {
		return 0, err
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {m.File: file}})
	if err != nil {
		return 0, err
	}
	ov := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(ov, overlay, 0o600); err != nil {
		return 0, err
	}
	_, res := goTest(ctx, pkg, ov, timeout)
	return res, nil
}

// goTest runs a package's tests (with an overlay when one is named) and
// classifies the result. Vet is off: it would refuse some mutants before
// any test ran (x == "a" && x == "b" is an impossible condition to vet),
// and the question is whether the tests notice. go test's own -timeout makes a test binary that
// loops panic; the context, a little later, ends go test and everything
// it started (its process group) should the build itself hang.
func goTest(ctx context.Context, pkg, overlay string, timeout time.Duration) ([]byte, outcome) {
	ctx, cancel := context.WithTimeout(ctx, timeout+30*time.Second)
	defer cancel()
	args := []string{"test", "-count=1", "-failfast", "-vet=off", "-timeout=" + timeout.String()}
	if overlay != "" {
		args = append(args, "-overlay="+overlay)
	}
	cmd := exec.CommandContext(ctx, "go", append(args, pkg)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	b := out.Bytes()
	switch {
	case err == nil:
		return b, survived
	case ctx.Err() != nil, bytes.Contains(b, []byte("panic: test timed out")):
		return b, timedOut
	case bytes.Contains(b, []byte("[build failed]")), bytes.Contains(b, []byte("[setup failed]")):
		return b, notBuilt
	}
	return b, killed
}
