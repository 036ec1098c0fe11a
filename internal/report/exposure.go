// Package report turns flow records (netmodel.Flow) into the reports
// people read: the exposure report (per workspace, what crossed public
// networks with what metadata, and what would have kept it private) and the
// access report (per principal, each request's outcome and the decisions
// behind it). It is pure: the admin API gives it the flows and the
// workspaces' current settings.
package report

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/armlet/armlet/internal/arm/action"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/netmodel"
)

// The settings the exposure report names as what would have kept an
// operation private.
const (
	// KeepV1LegacyMode is advised for a v2 operation over public ARM only
	// to a workspace with a private endpoint: "You only need
	// v1_legacy_mode set to true if you use a private endpoint with the
	// workspace and have a policy against public ARM communications".
	KeepV1LegacyMode     = "v1LegacyMode true keeps it on the workspace endpoint (v1 API)"
	KeepPrivateARM       = "a resource management private link with publicNetworkAccess Disabled"
	KeepWorkspacePrivate = "disable publicNetworkAccess and use a private endpoint"
	// KeepRegistryPrivate is the advice for a registry data-plane call
	// that crossed the public network.
	KeepRegistryPrivate = "disable the registry's publicNetworkAccess and use a private endpoint (group id amlregistry)"
	// KeepUsePrivateEndpoint and KeepUsePrivateARM are the advice for
	// operations that were only ever refused because public access is
	// already off: only their request metadata crossed the network.
	KeepUsePrivateEndpoint = "public access is already refused: call through the workspace's private endpoint"
	KeepUsePrivateARM      = "public ARM is already refused: call through the resource management private endpoint"
	KeepUsePrivateRegistry = "public access is already refused: call through the registry's private endpoint"
	// KeepStoragePrivate and KeepVaultPrivate are the advice for a blob
	// or key vault data-plane call that crossed the public network;
	// KeepUsePrivateStorage and KeepUsePrivateVault for one only ever
	// refused because the account's (vault's) public access is off.
	KeepStoragePrivate    = "disable the storage account's publicNetworkAccess and use a private endpoint (group id blob)"
	KeepVaultPrivate      = "disable the key vault's publicNetworkAccess and use a private endpoint (group id vault)"
	KeepUsePrivateStorage = "public access is already refused: call through the storage account's private endpoint"
	KeepUsePrivateVault   = "public access is already refused: call through the key vault's private endpoint"
)

// The states of a workspace in the exposure report.
const (
	StateExists = "exists"
	// StateDeleted: it is gone, and a recorded write or delete of it
	// succeeded (a workspace created and deleted before the oldest flow
	// record kept counts as never created).
	StateDeleted = "deleted"
	// StateNeverCreated: it does not exist and no write of it succeeded,
	// such as a workspace whose every create was refused.
	StateNeverCreated = "neverCreated"
)

// Error codes of refusals for being public: the workspace endpoint's
// private link denial (403 with Azure ML's UserError) and public ARM's.
const (
	codeWorkspaceDenied = "UserError"
	codePublicARMDenied = "PublicNetworkAccessRestricted"
	// codeStorageDenied is Storage's refusal by its network rules; Key
	// Vault's are ForbiddenByConnection and ForbiddenByFirewall.
	codeStorageDenied = "AuthorizationFailure"
)

// ExposureReport answers, per workspace, registry, storage account and key
// vault, which operations
// crossed public networks with what metadata, which stayed private, and
// what would have kept each public one private.
type ExposureReport struct {
	GeneratedAt time.Time           `json:"generatedAt"`
	Workspaces  []WorkspaceExposure `json:"workspaces"`
	// Registries are the Azure ML registries, reported as workspaces are:
	// Registry is set, Workspace is empty.
	Registries []WorkspaceExposure `json:"registries"`
	// StorageAccounts and Vaults are the storage accounts and key vaults
	// whose data planes were called (blob, Key Vault), reported as
	// workspaces are: StorageAccount or Vault is set.
	StorageAccounts []WorkspaceExposure `json:"storageAccounts"`
	Vaults          []WorkspaceExposure `json:"vaults"`
	// DroppedFlowRecords counts the requests armlet served without a flow
	// record since it started, because the flow writer could not keep up:
	// the report leaves them out.
	DroppedFlowRecords int64 `json:"droppedFlowRecords"`
}

// WorkspaceExposure is the report of one workspace, or of one registry.
type WorkspaceExposure struct {
	Workspace string `json:"workspace,omitempty"`
	Registry  string `json:"registry,omitempty"`
	// StorageAccount and Vault name the subject of a data plane's report.
	StorageAccount string `json:"storageAccount,omitempty"`
	Vault          string `json:"vault,omitempty"`
	// Settings are the workspace's (registry's) current isolation
	// settings, when the report's caller knows them (nil otherwise): what
	// decides the path the next operations take.
	Settings *WorkspaceSettings `json:"settings,omitempty"`
	Public   []PublicOperation  `json:"public"`
	Private  []PrivateOperation `json:"private"`
}

// WorkspaceSettings are a workspace's current settings that decide which
// network its operations cross.
type WorkspaceSettings struct {
	// Exists is false once the workspace has been deleted (its flows stay)
	// or when it never was created.
	Exists bool `json:"exists"`
	// State is StateExists, StateDeleted or StateNeverCreated; BuildExposure
	// sets it.
	State string `json:"state"`
	// V1LegacyMode is the effective mode (true while a change to false is
	// still propagating): the v2 API through ARM is off. Always false for
	// a registry, which has no v1 API.
	V1LegacyMode bool `json:"v1LegacyMode"`
	// PublicNetworkAccess of the workspace (registry) endpoint: Enabled or
	// Disabled.
	PublicNetworkAccess string `json:"publicNetworkAccess,omitempty"`
	// ApprovedPrivateEndpoints counts the workspace's (registry's)
	// approved private endpoint connections.
	ApprovedPrivateEndpoints int `json:"approvedPrivateEndpoints"`
	// PublicARMDisabled is true when the workspace's tenant refuses public
	// ARM (a privateLinkAssociation with publicNetworkAccess Disabled).
	PublicARMDisabled bool `json:"publicArmDisabled"`
}

// PublicOperation is one operation that crossed a public network (public
// ARM or the workspace's public endpoint), with everything it exposed.
type PublicOperation struct {
	Operation   string             `json:"operation"`
	Class       netmodel.PathClass `json:"class"`
	Count       int                `json:"count"`
	Statuses    map[string]int     `json:"statuses"`
	LastSeen    time.Time          `json:"lastSeen"`
	ResourceIDs []string           `json:"resourceIds"`
	Query       []netmodel.Param   `json:"query"`
	Body        []netmodel.Param   `json:"body"`
	// Callers are the object ids of the principals who made the calls.
	Callers []string `json:"callers"`
	// KeepPrivate lists the settings each of which would have kept the
	// operation off public networks.
	KeepPrivate []string `json:"keepPrivate"`
}

// PrivateOperation is one operation that arrived through private
// endpoints.
type PrivateOperation struct {
	Operation          string             `json:"operation"`
	Class              netmodel.PathClass `json:"class"`
	Count              int                `json:"count"`
	Statuses           map[string]int     `json:"statuses"`
	LastSeen           time.Time          `json:"lastSeen"`
	PrivateEndpointIDs []string           `json:"privateEndpointIds"`
}

// maxReportValues caps the distinct values kept per list of one operation.
const maxReportValues = 100

// BuildExposure groups flows by workspace or registry (flows under
// neither, such as token requests, are left out) and, within one, by path
// class and operation (case-insensitively). isV2Child tells whether a
// child type segment below a workspace ("onlineEndpoints") is one the v1
// legacy mode keeps off ARM. settings, when not nil, returns a workspace's
// or registry's current settings (its Exists set; State is set here),
// given its resource ID, which the advice depends on; without it every
// setting that could help is advised.
func BuildExposure(flows []netmodel.Flow, isV2Child func(child string) bool, settings func(workspace string) (*WorkspaceSettings, error), now time.Time) (ExposureReport, error) {
	type pubKey struct{ ws, class, op string }
	byWS := map[string]*WorkspaceExposure{}
	pub := map[pubKey]*PublicOperation{}
	priv := map[pubKey]*PrivateOperation{}
	seen := map[*PublicOperation]map[string]bool{}
	refusedOnly := map[*PublicOperation]bool{}
	refusals := map[*PublicOperation]int{} // refused for being public
	written := map[string]bool{}
	reachedPrivately := map[string]bool{} // through a private endpoint to the workspace
	var order []string
	for _, f := range flows {
		subject := f.Workspace
		if subject == "" {
			subject = f.Registry
		}
		store, vault := dataPlaneSubject(f)
		if subject == "" {
			subject = store + vault
		}
		if subject == "" {
			continue
		}
		wsKey := strings.ToLower(subject)
		w, ok := byWS[wsKey]
		if !ok {
			w = &WorkspaceExposure{Workspace: f.Workspace, Public: []PublicOperation{}, Private: []PrivateOperation{}}
			switch {
			case f.Workspace != "":
			case f.Registry != "":
				w.Registry = f.Registry
			default:
				w.StorageAccount, w.Vault = store, vault
			}
			byWS[wsKey] = w
			order = append(order, wsKey)
		}
		if f.Status >= 200 && f.Status < 300 && strings.EqualFold(f.ResourceID, subject) {
			written[wsKey] = written[wsKey] || f.Method == "PUT" || f.Method == "PATCH" || f.Method == "DELETE"
		}
		k := pubKey{wsKey, string(f.Class), strings.ToLower(f.Operation)}
		status := strconv.Itoa(f.Status)
		switch f.Class {
		case netmodel.ARMPrivate, netmodel.WorkspacePrivate, netmodel.RegistryPrivate, netmodel.StoragePrivate, netmodel.KeyVaultPrivate:
			reachedPrivately[wsKey] = reachedPrivately[wsKey] || f.Class != netmodel.ARMPrivate
			p, ok := priv[k]
			if !ok {
				p = &PrivateOperation{Operation: f.Operation, Class: f.Class, Statuses: map[string]int{}, PrivateEndpointIDs: []string{}}
				priv[k] = p
			}
			p.Count++
			p.Statuses[status]++
			if f.Time.After(p.LastSeen) {
				p.LastSeen = f.Time
			}
			if f.PrivateEndpointID != "" && !slices.ContainsFunc(p.PrivateEndpointIDs, func(s string) bool { return strings.EqualFold(s, f.PrivateEndpointID) }) {
				p.PrivateEndpointIDs = append(p.PrivateEndpointIDs, f.PrivateEndpointID)
			}
		default:
			p, ok := pub[k]
			if !ok {
				p = &PublicOperation{Operation: f.Operation, Class: f.Class, Statuses: map[string]int{},
					ResourceIDs: []string{}, Query: []netmodel.Param{}, Body: []netmodel.Param{}, Callers: []string{}}
				pub[k] = p
				seen[p] = map[string]bool{}
				refusedOnly[p] = true
			}
			// A 401 (a client's first, tokenless request answered with
			// its challenge, as Key Vault's clients make) was served
			// nothing: it neither shows the path open nor refused.
			if f.Status != http.StatusUnauthorized {
				refused := refusedForBeingPublic(f)
				refusedOnly[p] = refusedOnly[p] && refused
				if refused {
					refusals[p]++
				}
			}
			p.Count++
			p.Statuses[status]++
			if f.Time.After(p.LastSeen) {
				p.LastSeen = f.Time
			}
			s := seen[p]
			if key := "c\x00" + strings.ToLower(f.CallerObjectID); f.CallerObjectID != "" && !s[key] && len(p.Callers) < maxReportValues {
				s[key] = true
				p.Callers = append(p.Callers, f.CallerObjectID)
			}
			for _, id := range f.Metadata.ResourceIDs {
				if key := "id\x00" + strings.ToLower(id); !s[key] && len(p.ResourceIDs) < maxReportValues {
					s[key] = true
					p.ResourceIDs = append(p.ResourceIDs, id)
				}
			}
			for _, q := range f.Metadata.Query {
				if key := "q\x00" + q.Name + "\x00" + q.Value; !s[key] && len(p.Query) < maxReportValues {
					s[key] = true
					p.Query = append(p.Query, q)
				}
			}
			for _, b := range f.Metadata.Body {
				if key := "b\x00" + b.Name + "\x00" + b.Value; !s[key] && len(p.Body) < maxReportValues {
					s[key] = true
					p.Body = append(p.Body, b)
				}
			}
		}
	}
	for _, k := range order {
		w := byWS[k]
		if settings == nil {
			continue
		}
		st, err := settings(w.Workspace + w.Registry + w.StorageAccount + w.Vault)
		if err != nil {
			return ExposureReport{}, err
		}
		switch {
		case st.Exists:
			st.State = StateExists
		case written[k]:
			st.State = StateDeleted
		default:
			st.State = StateNeverCreated
		}
		w.Settings = st
	}
	for k, p := range pub {
		hasPrivateEndpoint := reachedPrivately[k.ws] || byWS[k.ws].Settings == nil || byWS[k.ws].Settings.ApprovedPrivateEndpoints > 0
		p.KeepPrivate = keepPrivate(*p, refusedOnly[p] && refusals[p] > 0, hasPrivateEndpoint, isV2Child)
		byWS[k.ws].Public = append(byWS[k.ws].Public, *p)
	}
	for k, p := range priv {
		byWS[k.ws].Private = append(byWS[k.ws].Private, *p)
	}
	slices.Sort(order)
	r := ExposureReport{GeneratedAt: now.UTC(), Workspaces: []WorkspaceExposure{}, Registries: []WorkspaceExposure{},
		StorageAccounts: []WorkspaceExposure{}, Vaults: []WorkspaceExposure{}}
	for _, k := range order {
		w := byWS[k]
		slices.SortFunc(w.Public, func(a, b PublicOperation) int { return cmpOp(a.Class, a.Operation, b.Class, b.Operation) })
		slices.SortFunc(w.Private, func(a, b PrivateOperation) int { return cmpOp(a.Class, a.Operation, b.Class, b.Operation) })
		switch {
		case w.Registry != "":
			r.Registries = append(r.Registries, *w)
		case w.StorageAccount != "":
			r.StorageAccounts = append(r.StorageAccounts, *w)
		case w.Vault != "":
			r.Vaults = append(r.Vaults, *w)
		default:
			r.Workspaces = append(r.Workspaces, *w)
		}
	}
	return r, nil
}

func cmpOp(ac netmodel.PathClass, ao string, bc netmodel.PathClass, bo string) int {
	if c := strings.Compare(string(ac), string(bc)); c != 0 {
		return c
	}
	return strings.Compare(strings.ToLower(ao), strings.ToLower(bo))
}

// dataPlaneSubject is the storage account or key vault a blob or Key
// Vault data-plane flow reached (its resource), else "".
func dataPlaneSubject(f netmodel.Flow) (storage, vault string) {
	switch f.Class {
	case netmodel.StoragePublic, netmodel.StoragePrivate:
		return f.ResourceID, ""
	case netmodel.KeyVaultPublic, netmodel.KeyVaultPrivate:
		// A secret's flows name the secret: the subject is its vault.
		id, err := resourceid.Parse(f.ResourceID)
		if err != nil {
			return "", f.ResourceID
		}
		if v := action.VaultOf(id); v != "" {
			return "", v
		}
		return "", f.ResourceID
	}
	return "", ""
}

// refusedForBeingPublic reports whether f was refused because public
// access is off (the workspace's, registry's, storage account's or key
// vault's, or public ARM's).
func refusedForBeingPublic(f netmodel.Flow) bool {
	switch f.Class {
	case netmodel.StoragePublic:
		return f.Status == 403 && f.ErrorCode == codeStorageDenied
	case netmodel.KeyVaultPublic:
		return f.Status == 403 && (f.ErrorCode == "ForbiddenByConnection" || f.ErrorCode == "ForbiddenByFirewall")
	case netmodel.WorkspacePublic, netmodel.RegistryPublic:
		return f.Status == 403 && f.ErrorCode == codeWorkspaceDenied
	case netmodel.ARMPublic:
		return f.Status == 403 && f.ErrorCode == codePublicARMDenied
	}
	return false
}

// keepPrivate names the settings that would have kept a public operation
// private: a workspace endpoint call needs the workspace closed to the
// public and a private endpoint; an ARM call needs private ARM, and a v2
// child operation of a workspace with a private endpoint (one approved
// now, one its flows went through, or settings not known) could instead
// stay on the workspace endpoint in v1 legacy mode. An operation only
// ever refused for being public needs the private path the settings
// already require.
func keepPrivate(p PublicOperation, refusedOnly, hasPrivateEndpoint bool, isV2Child func(string) bool) []string {
	switch {
	case refusedOnly && p.Class == netmodel.WorkspacePublic:
		return []string{KeepUsePrivateEndpoint}
	case refusedOnly && p.Class == netmodel.RegistryPublic:
		return []string{KeepUsePrivateRegistry}
	case refusedOnly && p.Class == netmodel.StoragePublic:
		return []string{KeepUsePrivateStorage}
	case refusedOnly && p.Class == netmodel.KeyVaultPublic:
		return []string{KeepUsePrivateVault}
	case refusedOnly:
		return []string{KeepUsePrivateARM}
	case p.Class == netmodel.WorkspacePublic:
		return []string{KeepWorkspacePrivate}
	case p.Class == netmodel.RegistryPublic:
		return []string{KeepRegistryPrivate}
	case p.Class == netmodel.StoragePublic:
		return []string{KeepStoragePrivate}
	case p.Class == netmodel.KeyVaultPublic:
		return []string{KeepVaultPrivate}
	}
	if child := action.WorkspaceChild(p.Operation); child != "" && isV2Child != nil && isV2Child(child) && hasPrivateEndpoint {
		return []string{KeepV1LegacyMode, KeepPrivateARM}
	}
	return []string{KeepPrivateARM}
}

// WriteTable writes the report for people: per workspace, the public
// operations with what they exposed and what would keep them private,
// then the private ones.
func (r ExposureReport) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	writeDropped(tw, r.DroppedFlowRecords)
	all := slices.Concat(r.Workspaces, r.Registries, r.StorageAccounts, r.Vaults)
	if len(all) == 0 {
		fmt.Fprintln(tw, "No workspace, registry, storage account or key vault operations recorded.")
	}
	for i, ws := range all {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		switch {
		case ws.Registry != "":
			fmt.Fprintf(tw, "REGISTRY %s\n", ws.Registry)
		case ws.StorageAccount != "":
			fmt.Fprintf(tw, "STORAGE ACCOUNT %s\n", ws.StorageAccount)
		case ws.Vault != "":
			fmt.Fprintf(tw, "KEY VAULT %s\n", ws.Vault)
		default:
			fmt.Fprintf(tw, "WORKSPACE %s\n", ws.Workspace)
		}
		if st := ws.Settings; st != nil {
			publicARM := map[bool]string{true: "disabled", false: "enabled"}[st.PublicARMDisabled]
			switch {
			case st.State == StateDeleted:
				fmt.Fprintln(tw, "  (deleted)")
			case st.State == StateNeverCreated:
				fmt.Fprintln(tw, "  (never created: no write of it succeeded)")
			case ws.StorageAccount != "" || ws.Vault != "":
				fmt.Fprintf(tw, "  now: publicNetworkAccess %s\n", st.PublicNetworkAccess)
			case ws.Registry != "":
				fmt.Fprintf(tw, "  now: publicNetworkAccess %s, %d approved private endpoint(s), public ARM %s\n",
					st.PublicNetworkAccess, st.ApprovedPrivateEndpoints, publicARM)
			default:
				fmt.Fprintf(tw, "  now: v1LegacyMode %t, publicNetworkAccess %s, %d approved private endpoint(s), public ARM %s\n",
					st.V1LegacyMode, st.PublicNetworkAccess, st.ApprovedPrivateEndpoints, publicARM)
			}
		}
		if len(ws.Public) == 0 {
			fmt.Fprintln(tw, "  no operation crossed a public network")
		} else {
			fmt.Fprintln(tw, "  PUBLIC\tOPERATION\tCOUNT\tSTATUS\tWOULD STAY PRIVATE WITH")
			for _, p := range ws.Public {
				fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", p.Class, p.Operation, p.Count, statuses(p.Statuses), strings.Join(p.KeepPrivate, "; or "))
				if len(p.Callers) > 0 {
					fmt.Fprintf(tw, "    callers:\t%s\n", strings.Join(p.Callers, ", "))
				}
				if len(p.ResourceIDs) > 0 {
					fmt.Fprintf(tw, "    resource ids:\t%s\n", strings.Join(p.ResourceIDs, ", "))
				}
				if len(p.Query) > 0 {
					fmt.Fprintf(tw, "    query:\t%s\n", params(p.Query))
				}
				if len(p.Body) > 0 {
					fmt.Fprintf(tw, "    body:\t%s\n", params(p.Body))
				}
			}
		}
		if len(ws.Private) > 0 {
			fmt.Fprintln(tw, "  PRIVATE\tOPERATION\tCOUNT\tSTATUS\tTHROUGH")
			for _, p := range ws.Private {
				fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", p.Class, p.Operation, p.Count, statuses(p.Statuses), strings.Join(p.PrivateEndpointIDs, ", "))
			}
		}
	}
	return tw.Flush()
}

func statuses(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "×" + strconv.Itoa(m[k])
	}
	return strings.Join(parts, " ")
}

func params(ps []netmodel.Param) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Name + "=" + p.Value
	}
	return strings.Join(parts, ", ")
}

// writeDropped warns that n requests have no flow record.
func writeDropped(w io.Writer, n int64) {
	if n > 0 {
		fmt.Fprintf(w, "WARNING: %d requests were served without a flow record (the flow writer could not keep up); they are not in this report.\n\n", n)
	}
}
