// Command armlet is a local, offline emulator of the Azure Resource
// Manager control plane for Azure Machine Learning.
//
//	armlet serve [flags]                 run the emulator (see armlet serve -h)
//	armlet principal create --name NAME  add a service principal
//	armlet principal delete ID           delete one (object or client id); its tokens stop working
//	armlet clock advance 45m             move the armlet clock forward
//	armlet clock show                    print the armlet clock
//	armlet state RESOURCE_ID             a resource's internal and derived state, secrets
//	                                     redacted (--show-secrets shows them)
//	armlet network endpoints [--json]    the private endpoint listeners
//	armlet network vnets [--json]        the virtual networks' proxies (HTTPS_PROXY inside each)
//	armlet network resolve HOST --vnet ID
//	                                     HOST resolved as Azure DNS does inside the virtual network
//	armlet report exposure [--json]      what crossed public networks, per workspace
//	armlet report access [--json]        per principal, each request's outcome and why
//	armlet export [--file F]             the whole state as a seed file (F is written 0600)
//	armlet import FILE                   apply a seed or export file; existing resources are skipped
//	armlet reset --yes                   delete every resource; principals, CA and keys stay
//	armlet bench [flags]                 throughput, latency, start time and memory
//
// The client commands read <data-dir>/connection.json (--data-dir or
// ARMLET_DATA_DIR, default .armlet).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/armlet/armlet/internal/app"
	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/logbuf"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const usage = `armlet: a local emulator of Azure Resource Manager for Azure Machine Learning

Usage:
  armlet serve [flags]                 run the emulator (armlet serve -h lists the flags)
  armlet principal create --name NAME  add a service principal; prints its credentials as JSON
  armlet principal list                list the service principals
  armlet principal delete ID           delete a service principal (object id or client id); its
                                       tokens stop working at once
  armlet clock advance DURATION        move the armlet clock forward (e.g. 45m)
  armlet clock show                    print the armlet clock
  armlet state [--show-secrets] RESOURCE_ID
                                       show a resource's internal and derived state; stored
                                       secrets print as [REDACTED] unless --show-secrets
  armlet fleet                         show this replica, the replica leading the time-driven
                                       work, and the store they share
  armlet network endpoints [--json]    list the private endpoint listeners (loopback address per endpoint)
  armlet network vnets [--json]        list the virtual networks' proxies: a client whose HTTPS_PROXY
                                       is one is inside that virtual network
  armlet network resolve HOST --vnet VIRTUAL_NETWORK_ID [--json]
                                       resolve HOST as Azure DNS does inside the virtual network:
                                       the public CNAME, the linked private DNS zone, its record,
                                       the private endpoint, and where the request goes
  armlet report exposure [--json] [--workspace ID] [--since T] [--until T]
                                       per workspace: what crossed public networks, with what
                                       metadata, and what would have kept it private
  armlet report access [--json] [--principal ID|NAME] [--since T] [--denied-only]
                                       per principal: each request's outcome and its decision
                                       trail (which role assignment allowed it or which
                                       permission was missing; which policy matched and why)
  armlet export [--file F] [--include-principals]
                                       print the whole state as a seed file, or write it to F
                                       (mode 0600: it holds secrets); principals only if asked
  armlet import FILE                   apply a seed or export file to the running armlet;
                                       resources that exist are left alone and listed as skipped
  armlet reset --yes                   delete every resource; the principals, the CA, the signing
                                       key, the clock and the flow records stay
  armlet bench [flags]                 measure armlet beside a bare TLS server (armlet bench -h)
  armlet ui                            print a new one-time login link of the web UI
  armlet version                       print the version

Client commands read <data-dir>/connection.json; set --data-dir or ARMLET_DATA_DIR.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "--version", "-version":
		fmt.Fprintln(stdout, "armlet", version)
	case "serve":
		err = serve(ctx, args[1:], getenv, stdout, stderr)
	case "principal":
		err = principal(ctx, args[1:], getenv, stdout)
	case "clock":
		err = clockCmd(ctx, args[1:], getenv, stdout)
	case "state":
		err = stateCmd(ctx, args[1:], getenv, stdout)
	case "fleet":
		err = fleetCmd(ctx, args[1:], getenv, stdout)
	case "network":
		err = networkCmd(ctx, args[1:], getenv, stdout)
	case "report":
		err = reportCmd(ctx, args[1:], getenv, stdout)
	case "export":
		err = exportCmd(ctx, args[1:], getenv, stdout)
	case "import":
		err = importCmd(ctx, args[1:], getenv, stdout)
	case "reset":
		err = resetCmd(ctx, args[1:], getenv, stdout)
	case "bench":
		err = benchCmd(ctx, args[1:], stdout, stderr)
	case "ui":
		err = uiCmd(ctx, args[1:], getenv, stdout)
	case "version":
		fmt.Fprintln(stdout, "armlet", version)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
	default:
		hint := ""
		if n := config.Nearest(args[0], commands); n != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", n)
		}
		fmt.Fprintf(stderr, "armlet: unknown command %q%s\n\n%s", args[0], hint, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue *config.UsageError
	if errors.As(err, &ue) {
		fmt.Fprintln(stderr, "armlet:", err)
		if ue.Hint != "" {
			fmt.Fprintln(stderr, "armlet:", ue.Hint)
		}
		fmt.Fprintf(stderr, "run 'armlet %s -h' for the flags, 'armlet help' for the commands\n", args[0])
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "armlet:", err)
		return 1
	}
	return 0
}

// logInterval is how long armlet serve holds an info or debug log line
// before writing it.
const logInterval = 100 * time.Millisecond

// commands are armlet's commands, for suggestions.
var commands = []string{"serve", "principal", "clock", "state", "fleet", "network", "report", "export", "import", "reset", "bench", "ui", "version", "help"}

// usageErr is a bad command line of a client command (exit status 2).
func usageErr(format string, args ...any) error {
	return &config.UsageError{Err: fmt.Errorf(format, args...)}
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Parse(args, getenv, stderr)
	if err != nil {
		return err
	}
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	// The log (a line per request at info) is written in batches: at most
	// logInterval late, at once for warnings and errors and on shutdown.
	logOut := logbuf.New(stderr, logInterval)
	defer logOut.Close()
	var h slog.Handler = slog.NewTextHandler(logOut, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(logOut, opts)
	}
	log := slog.New(logbuf.Handler(h, logOut, slog.LevelWarn))
	log.Debug("configuration", "settings", strings.Join(cfg.Summary(), " "))
	if cfg.LenientAPIVersions {
		log.Warn("lenient api-versions: any well-formed api-version is accepted, unlike Azure")
	}
	srv, err := app.Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	printBanner(stdout, srv.Connection(), cfg.DataDir)
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout+time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// printBanner prints the endpoints and copy-paste set-up lines for the
// Azure CLI, the Go SDK and Terraform.
func printBanner(w io.Writer, c app.Connection, dataDir string) {
	fmt.Fprintf(w, `armlet is serving
  ARM endpoint       %s
  login (Entra)      %s
  login (ADFS)       %s
  metadata           %s
  tenant             %s
  subscription       %s
  client id          %s
  CA certificate     %s
  connection file    %s/connection.json (holds the client secret)
  web UI             %s (one-time login link)

Azure CLI:
  export REQUESTS_CA_BUNDLE=%s
  az cloud register -n armlet --endpoint-resource-manager %s && az cloud set -n armlet
  az login --service-principal -u %s -p "$(jq -r .clientSecret %s/connection.json)" --tenant %s

Go SDK (azidentity + arm clients):
  cloud.Configuration{ActiveDirectoryAuthorityHost: %q,
    Services: map[cloud.ServiceName]cloud.ServiceConfiguration{cloud.ResourceManager: {Endpoint: %q, Audience: %q}}}
  azidentity.ClientSecretCredentialOptions{DisableInstanceDiscovery: true}; SSL_CERT_FILE=%s

Terraform (azurerm):
  export ARM_METADATA_HOSTNAME=%s ARM_TENANT_ID=%s ARM_SUBSCRIPTION_ID=%s ARM_CLIENT_ID=%s SSL_CERT_FILE=%s
`, c.ARMEndpoint, c.LoginEndpoint, c.ADFSEndpoint, c.MetadataEndpoint, c.TenantID, c.SubscriptionID, c.ClientID,
		c.CACertificate, dataDir, c.UIURL,
		c.CACertificate, c.ARMEndpoint, c.ClientID, dataDir, c.TenantID,
		c.LoginEndpoint, strings.TrimSuffix(c.ARMEndpoint, "/"), c.Audience, c.CACertificate,
		strings.TrimSuffix(strings.TrimPrefix(c.ARMEndpoint, "https://"), "/"), c.TenantID, c.SubscriptionID, c.ClientID, c.CACertificate)
	if c.HTTPSProxy != "" {
		fmt.Fprintf(w, `
Any client, with Azure's own host names and its built-in public cloud (the HTTPS proxy):
  export HTTPS_PROXY=%s SSL_CERT_FILE=%s REQUESTS_CA_BUNDLE=%s
  inside a virtual network: its own HTTPS_PROXY, from armlet network vnets
`, c.HTTPSProxy, c.CACertificate, c.CACertificate)
	}
}
