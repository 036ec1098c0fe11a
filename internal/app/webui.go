package app

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/providers/authorization"
	"github.com/armlet/armlet/internal/providers/machinelearning"
	"github.com/armlet/armlet/internal/webui"
	"github.com/google/uuid"
)

// newUI returns the web UI, whose data calls are admin API calls of the
// bootstrap principal: a session is the bootstrap principal's, and reads
// what the admin API serves it, through the same checks.
func (s *Server) newUI(adm *admin, log *slog.Logger) *webui.UI {
	return webui.New(webui.Options{
		Logger: log,
		Data: func(ctx context.Context, r *http.Request, body []byte) (*engine.Response, error) {
			return adm.ServeAdmin(ctx, s.bootCaller, r, body)
		},
	})
}

// uiCounting counts the flow observations for the UI's revision.
type uiCounting struct {
	armhttpFlows interface{ Record(netmodel.Observation) }
	n            *atomic.Int64
}

func (c uiCounting) Record(o netmodel.Observation) {
	c.n.Add(1)
	c.armhttpFlows.Record(o)
}

// uiNamespaces are the providers whose resources the UI draws, besides
// Resource Management Private Links and their associations.
var uiNamespaces = []string{
	"microsoft.network/", "microsoft.machinelearningservices/", "microsoft.storage/",
	"microsoft.keyvault/", "microsoft.containerregistry/",
}

// serveUI answers the admin API's UI routes (see admin).
func (a *admin) serveUI(ctx context.Context, route string) (*engine.Response, error) {
	switch route {
	case "GET /_armlet/ui/revision":
		// Choice: the revision is this replica's count of ARM writes and
		// flow observations, and the clock's offset: cheap, and it moves
		// with everything the views show except time-driven changes (an
		// operation finishing, a propagation ending), which the page
		// follows by re-reading when its own countdowns end and at least
		// every 30 seconds.
		return engine.JSON(http.StatusOK, map[string]any{
			"revision": a.s.uiRevision.Load(), "clockOffset": a.s.clock.Offset().String(), "now": a.s.clock.Now(),
		}), nil
	case "POST /_armlet/ui/login":
		return engine.JSON(http.StatusOK, map[string]any{"uiUrl": a.s.ui.LoginURL(a.base)}), nil
	}
	return a.uiResources(ctx)
}

// uiResources lists the resources the UI draws: networks, private
// endpoints, private DNS zones, Azure ML workspaces and registries and
// their children, storage accounts, key vaults, container registries,
// Resource Management Private Links and their associations, as GET bodies
// with secrets redacted; a workspace also with its effective v1LegacyMode;
// and whether a private link association closes public ARM.
func (a *admin) uiResources(ctx context.Context) (*engine.Response, error) {
	all, err := a.s.engine.Export(ctx)
	if err != nil {
		return nil, err
	}
	now := a.s.clock.Now()
	out := make([]map[string]any, 0, len(all))
	for _, ex := range all {
		lt := strings.ToLower(ex.Type)
		if !strings.EqualFold(ex.Type, authorization.TypePrivateLinks) && !strings.EqualFold(ex.Type, authorization.TypeAssociations) &&
			!hasAnyPrefix(lt, uiNamespaces) {
			continue
		}
		body, err := redactSecrets(ex.Body)
		if err != nil {
			return nil, err
		}
		item := map[string]any{"id": ex.ID.String(), "type": ex.Type, "body": body}
		if strings.EqualFold(ex.Type, machinelearning.TypeWorkspaces) {
			r, err := a.s.engine.Get(ctx, ex.ID)
			if _, isARM := arm.AsError(err); isARM {
				continue // deleted meanwhile
			}
			if err != nil {
				return nil, err
			}
			eff, until := machinelearning.EffectiveLegacyMode(r, now)
			d := map[string]any{"effectiveV1LegacyMode": eff}
			if !until.IsZero() {
				d["v1LegacyModePropagatesAt"] = until
			}
			item["derived"] = d
		}
		out = append(out, item)
	}
	// Whether public ARM is open: the drawing's "public ARM" node says so.
	armDisabled, _, err := a.s.opts.publicARM(ctx, a.s.identity.TenantID())
	if err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": out, "now": now, "publicArmDisabled": armDisabled}), nil
}

// principalFilter reads the reports' principal query parameter: an object
// id, an app (client) id, or the name of a principal armlet's identity
// holds (any casing; names need not be unique, so all of them). ok is
// false when there is no filter.
func (a *admin) principalFilter(ctx context.Context, r *http.Request) (ids map[string]bool, ok bool, err error) {
	q := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("principal")))
	if q == "" {
		return nil, false, nil
	}
	ids = map[string]bool{q: true}
	if _, err := uuid.Parse(q); err == nil {
		return ids, true, nil
	}
	ps, err := a.s.identity.ListPrincipals(ctx)
	if err != nil {
		return nil, false, err
	}
	for _, p := range ps {
		if strings.EqualFold(p.Name, q) {
			ids[strings.ToLower(p.ObjectID)], ids[strings.ToLower(p.ClientID)] = true, true
		}
	}
	return ids, true, nil
}

// flowsOf keeps the flows whose caller's object or app id is in ids.
func flowsOf(flows []netmodel.Flow, ids map[string]bool) []netmodel.Flow {
	out := flows[:0:0]
	for _, f := range flows {
		if ids[strings.ToLower(f.CallerObjectID)] || ids[strings.ToLower(f.CallerAppID)] {
			out = append(out, f)
		}
	}
	return out
}

// principalNames are the names of the principals armlet's identity holds,
// by lower-case object id: the access report's callers by name.
func (a *admin) principalNames(ctx context.Context) (map[string]string, error) {
	ps, err := a.s.identity.ListPrincipals(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(ps))
	for _, p := range ps {
		names[strings.ToLower(p.ObjectID)] = p.Name
	}
	return names, nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
