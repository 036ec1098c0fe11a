// Package machinelearning is armlet's Microsoft.MachineLearningServices
// resource provider: workspaces, their private endpoint connections and
// private link resources, and the v1LegacyMode property with its
// api-version-dependent defaults and its slow propagation (docs/design.md
// section 1, rules L1 to L4).
//
// The provider plugs into the generic engine through engine.Type and the
// optional strategy interfaces; it keeps no state of its own besides what
// the engine stores (Resource.Properties and Resource.Internal.Data).
//
// Where Azure's behaviour is unknown the provider makes a choice; each is
// documented in a comment starting "Choice:".
package machinelearning

import (
	"strings"
	"time"

	"github.com/armlet/armlet/internal/engine"
)

// Namespace is the resource provider namespace.
const Namespace = "Microsoft.MachineLearningServices"

// Resource types served by this package.
const (
	TypeWorkspaces                 = Namespace + "/workspaces"
	TypePrivateEndpointConnections = TypeWorkspaces + "/privateEndpointConnections"
	TypePrivateLinkResources       = TypeWorkspaces + "/privateLinkResources"
)

// APIVersions are the stable api-versions of the namespace that armlet
// accepts, newest first (docs/azure-ml-arm.md 1.1). Each type adds
// PreviewAPIVersions (apiVersionsOf, sdkmodels.go).
var APIVersions = []string{
	"2025-09-01", "2025-06-01", "2025-04-01", "2024-10-01", "2024-04-01", "2023-10-01",
	"2023-04-01", "2022-10-01", "2022-05-01", "2021-07-01", "2021-04-01", "2021-01-01",
	"2020-08-01", "2020-06-01", "2020-04-01", "2020-03-01", "2020-01-01", "2019-11-01",
	"2019-06-01", "2019-05-01", "2018-12-01", "2018-11-19",
}

// PreviewAPIVersions are the preview api-versions Azure publishes for the
// namespace (the version folders of azure-rest-api-specs'
// specification/machinelearningservices, docs/azure-ml-arm.md 1.1), oldest
// first. A type accepts those it has a model of (sdkmodels.go) and, without
// one, those dated on or after its oldest stable version (apiVersionsOf).
var PreviewAPIVersions = []string{
	"2018-03-01-preview", "2020-02-18-preview", "2020-04-01-preview", "2020-05-01-preview",
	"2020-05-15-preview", "2020-09-01-preview", "2021-03-01-preview", "2022-01-01-preview",
	"2022-02-01-preview", "2022-06-01-preview", "2022-10-01-preview", "2022-12-01-preview",
	"2023-02-01-preview", "2023-04-01-preview", "2023-06-01-preview", "2023-08-01-preview",
	"2024-01-01-preview", "2024-07-01-preview", "2024-10-01-preview", "2025-01-01-preview",
	"2025-04-01-preview", "2025-07-01-preview", "2025-10-01-preview",
}

// LegacyModeAPIVersion is the first api-version that knows v1LegacyMode
// (rules L1 and L2).
const LegacyModeAPIVersion = "2022-05-01"

// Propagation bounds the delay before a v1LegacyMode change from true to
// false takes effect (rule L4). Each change draws a delay uniformly in
// [Min, Max] from the engine's random source, so runs under a seed repeat.
// The zero value makes changes take effect at once.
type Propagation struct {
	Min, Max time.Duration
}

// DefaultLegacyModePropagation is Azure's documented 30 to 60 minutes, the
// default of --legacy-mode-propagation.
var DefaultLegacyModePropagation = Propagation{Min: 30 * time.Minute, Max: 60 * time.Minute}

// Options configures the provider.
type Options struct {
	// TenantID is shown as a workspace's properties.tenantId. Empty uses
	// the tenant of the workspace's subscription.
	TenantID string
	// LegacyModePropagation is the delay of a v1LegacyMode change from true
	// to false. Zero is immediate.
	LegacyModePropagation Propagation
	// BaseURL, when set, is the public URL of armlet's main listener
	// ("https://127.0.0.1:8443"); workspaces show "{BaseURL}/discovery" as
	// their discoveryUrl to clients that did not address ARM at Azure's
	// host. Empty uses the URL of the request that created each workspace.
	BaseURL string
}

// draw returns a delay in [Min, Max]. A Max below Min counts as Min.
func (p Propagation) draw(rnd func() float64) time.Duration {
	lo, hi := max(p.Min, 0), max(p.Max, 0)
	if hi < lo {
		hi = lo
	}
	if hi == lo {
		return lo
	}
	return lo + time.Duration(rnd()*float64(hi-lo))
}

// Register adds the provider's resource types to e's registry.
func Register(e *engine.Engine, opts Options) {
	ws := &workspaceStrategy{e: e, opts: opts, shapes: newShapes(TypeWorkspaces, workspaceProperties)}
	e.Registry().Register(&engine.Type{
		Name:        TypeWorkspaces,
		APIVersions: apiVersionsOf(TypeWorkspaces, APIVersions),
		Tracked:     true,
		NamePattern: workspaceNamePattern,
		NameRule:    workspaceNameRule,
		Put:         engine.Location,
		Delete:      engine.Location,
		Strategy:    ws,
	})
	e.Registry().Register(&engine.Type{
		Name:          TypePrivateEndpointConnections,
		APIVersions:   apiVersionsOf(TypePrivateEndpointConnections, APIVersions),
		Put:           engine.Sync,
		Delete:        engine.Sync,
		CreatedStatus: 200,
		Strategy:      &connectionStrategy{e: e},
	})
	registerV2(e, opts)
}

// versionDate is the date part of an api-version ("2022-05-01" of
// "2022-05-01-preview").
func versionDate(v string) string {
	if len(v) >= 10 {
		return v[:10]
	}
	return v
}

// atLeast reports whether api-version v is since or newer, comparing dates.
//
// Choice: for v1LegacyMode a preview api-version counts as the date it carries: 2022-01-01-preview is older than
// 2022-05-01, so a workspace created with it gets v1LegacyMode true (rule
// L2) and responses at it omit the property.
func atLeast(v, since string) bool {
	return versionDate(v) >= versionDate(since)
}

// isPreview reports whether v is a preview api-version.
//
// Choice: apart from v1LegacyMode, a preview api-version armlet has no
// model of is not gated by the table of
// api-versions per property (previews often had properties before the
// stable version that introduced them): a request at it may send, and
// sees, every property. The previews armlet has models of are gated by
// them (sdkmodels.go).
func isPreview(v string) bool { return strings.Contains(v, "-") && len(v) > 10 }
