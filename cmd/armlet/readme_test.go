package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/testtool"
)

// skipMarker, on the line before a README shell block, keeps TestREADME
// from running it; the rest of the line must say why.
const skipMarker = "<!-- not run by TestREADME:"

// readmeBlock is one ```sh block of the README.
type readmeBlock struct {
	line int    // of the opening fence
	skip string // why it is not run; "" when it is
	text string
}

// readmeShellBlocks returns the README's ```sh blocks (indented ones too),
// in order.
func readmeShellBlocks(t *testing.T, path string) []readmeBlock {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []readmeBlock
	var cur *readmeBlock
	prev := ""
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += sc.Text() + "\n"
		case line == "```sh":
			cur = &readmeBlock{line: n}
			if reason, ok := strings.CutPrefix(prev, skipMarker); ok {
				cur.skip = strings.TrimSpace(strings.TrimSuffix(reason, "-->"))
				if cur.skip == "" {
					t.Errorf("README line %d: a skipped shell block must say why", n)
				}
			}
		}
		prev = line
	}
	if cur != nil {
		t.Fatalf("README line %d: shell block never closed", cur.line)
	}
	return blocks
}

// TestREADME runs every shell block of the README (except those marked
// not to run, each with its reason), in order, in one bash with -euo
// pipefail, in a fresh directory where armlet was started with its
// defaults (on a free port), with `armlet` on PATH and the Debian Azure
// CLI: what a new user types after `armlet serve` works as written
// (issue 14, trap 1). The output must show the walkthrough's refusals and
// its private ARM call.
func TestREADME(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "az", "apt-get install -y azure-cli")
	testtool.Require(t, "jq", "apt-get install -y jq")
	bash := testtool.Require(t, "bash", "apt-get install -y bash")

	var script strings.Builder
	ran := 0
	for _, b := range readmeShellBlocks(t, filepath.Join("..", "..", "README.md")) {
		if b.skip != "" {
			t.Logf("README line %d: not run (%s)", b.line, b.skip)
			continue
		}
		ran++
		script.WriteString(b.text)
	}
	if ran < 4 {
		t.Fatalf("only %d README shell blocks to run", ran)
	}

	dir := t.TempDir()
	// The defaults of `armlet serve`, but a free port.
	c := crashStart(t, filepath.Join(dir, ".armlet"), "ARMLET_LEGACY_MODE_PROPAGATION=30m-1h", "ARMLET_RANDOM_SEED=0", "ARMLET_LOG_LEVEL=info")
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	wrapper := "#!/bin/sh\n" + cliEnv + "=1 exec '" + self + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "armlet"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "-euo", "pipefail", "-c", script.String())
	cmd.Dir = dir
	cmd.Env = append(testtool.AzureCLIEnv(t, c.conn.CACertificate), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's shell blocks failed: %v\n%s", err, out)
	}
	for _, want := range []string{
		"refused: v1LegacyMode is on", // the v2 call before the change to false
		"refused: public ARM is off",  // the public call once the association is in place
		`"rg1"`,                       // the same call through the private listener
		"WORKSPACE /subscriptions/",   // the exposure report
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("the README's shell blocks printed no %q:\n%s", want, out)
		}
	}
}
