// Package testtool is test support for the tests that drive real clients
// installed on the machine (the Azure CLI, Node.js): finding them, and the
// environment the Azure CLI runs in. Only tests import it.
package testtool

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Require returns the path of the command name. When it is missing, the
// test is skipped with the way to install it, except in CI (CI set), where
// .ci/run installs it, so the test fails instead of silently skipping.
func Require(t testing.TB, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; in CI .ci/run must install it (%s)", name, install)
	}
	t.Skipf("%s not installed; install it with: %s", name, install)
	return ""
}

// RequireFile returns the path the environment variable name holds, which
// must be an existing file (a client built outside the repository, such as
// OpenTofu). When it is unset or missing, the test is skipped with the way
// to get it, except in CI (CI set), where it fails.
func RequireFile(t testing.TB, name, how string) string {
	t.Helper()
	path := os.Getenv(name)
	if path != "" {
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s does not name a file (%q); in CI .ci/run must set it (%s)", name, path, how)
	}
	t.Skipf("%s is not set to an existing file; %s", name, how)
	return ""
}

// AzureCLIEnv is the environment for running the Azure CLI in a test: a
// configuration directory of its own (the user's is untouched), trust in
// the CA certificate caFile, and no telemetry, colours, surveys or
// warnings on stderr.
func AzureCLIEnv(t testing.TB, caFile string) []string {
	return append(os.Environ(),
		"AZURE_CONFIG_DIR="+t.TempDir(),
		"REQUESTS_CA_BUNDLE="+caFile,
		"AZURE_CORE_COLLECT_TELEMETRY=false",
		"AZURE_CORE_NO_COLOR=true",
		"AZURE_CORE_ONLY_SHOW_ERRORS=true",
		"AZURE_CORE_SURVEY_MESSAGE=false",
	)
}

// Run runs bin with args in env, with a two-minute limit, and returns its
// standard output; a failure fails the test with both outputs.
func Run(t testing.TB, bin string, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", filepath.Base(bin), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
