package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/testtool"
)

// AzureCLI runs the real Azure CLI with a configuration directory of its
// own, trusting armlet's CA. A test without the CLI installed is skipped
// (failed in CI).
type AzureCLI struct {
	t   testing.TB
	a   *Armlet
	bin string
	env []string
}

// AzureCLI returns the Azure CLI for this armlet, not yet logged in.
func (a *Armlet) AzureCLI(t testing.TB) *AzureCLI {
	bin := testtool.Require(t, "az", "apt-get install -y azure-cli")
	return &AzureCLI{t: t, a: a, bin: bin, env: testtool.AzureCLIEnv(t, a.Conn.CACertificate)}
}

// AzureCLIThroughProxy returns the Azure CLI with its built-in AzureCloud
// pointed at nothing but armlet's HTTPS proxy: HTTPS_PROXY (and no
// NO_PROXY) and REQUESTS_CA_BUNDLE, with a configuration directory of its
// own; not yet logged in. Any request the CLI would send elsewhere than
// through the proxy fails, as Azure's host names do not resolve offline.
func (a *Armlet) AzureCLIThroughProxy(t testing.TB) *AzureCLI {
	c := a.AzureCLI(t)
	if a.Conn.HTTPSProxy == "" {
		t.Fatal("connection.json names no httpsProxy")
	}
	c.env = append(c.env, "HTTPS_PROXY="+a.Conn.HTTPSProxy, "https_proxy="+a.Conn.HTTPSProxy, "NO_PROXY=", "no_proxy=")
	return c
}

// LoginBootstrap logs in as the bootstrap service principal with the
// selected cloud: the CLI's built-in AzureCloud unless LoginAt registered
// one. It returns what az login printed (JSON).
func (c *AzureCLI) LoginBootstrap() string {
	c.t.Helper()
	return c.Run("login", "--service-principal", "-u", c.a.Conn.ClientID, "-p", c.a.Conn.ClientSecret, "--tenant", c.a.Conn.TenantID, "-o", "json")
}

// Login registers armlet as cloud "armlet" (from its metadata endpoint),
// selects it and logs in as the bootstrap service principal; it returns
// what az login printed (JSON).
func (c *AzureCLI) Login() string {
	c.t.Helper()
	return c.LoginAt("armlet", c.a.Conn.ARMEndpoint)
}

// LoginAt registers the ARM endpoint armEndpoint (the main listener or a
// Resource Management private endpoint's) as cloud name, selects it and
// logs in as the bootstrap service principal with the token service the
// endpoint's metadata names; it returns what az login printed (JSON).
func (c *AzureCLI) LoginAt(name, armEndpoint string) string {
	c.t.Helper()
	c.Run("cloud", "register", "-n", name, "--endpoint-resource-manager", armEndpoint)
	c.Run("cloud", "set", "-n", name)
	return c.LoginBootstrap()
}

// Run runs az and returns stdout; it fails the test on a non-zero exit.
func (c *AzureCLI) Run(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.Try(args...)
	if err != nil {
		c.t.Fatalf("az %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// Try runs az, with a two-minute limit, and returns stdout, stderr and
// the exit error.
func (c *AzureCLI) Try(args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// JSON runs az with "-o json" and returns its output, which must be a
// JSON object.
func (c *AzureCLI) JSON(args ...string) map[string]any {
	c.t.Helper()
	out := c.Run(append(args, "-o", "json")...)
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		c.t.Fatalf("az %s: output is not a JSON object: %v\n%s", strings.Join(args, " "), err, out)
	}
	return v
}
