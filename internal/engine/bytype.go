package engine

import (
	"context"
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/kv"
)

// ListByType returns the live resources of a top-level type (one that sits
// directly in a resource group, such as "Microsoft.Network/privateEndpoints")
// across every subscription, from the type index, in the index's order
// (subscription, resource group, name). Resources whose resource group is
// gone are left out, as the engine's own lists leave them out. Providers use
// it for bookkeeping that spans subscriptions, such as the listeners of
// approved private endpoints.
func (e *Engine) ListByType(ctx context.Context, fullType string) ([]*Resource, error) {
	// The subscriptions' ids are the last part of their record keys (in
	// lower case, as the type index keys them): no record is read.
	var subs []string
	subsPrefix := childrenPrefix(resourceid.Root, resourceid.TypeSubscriptions)
	err := scanPages(ctx, e.tables.records.ScanKeys, subsPrefix, func(ent kv.Entry) error {
		subs = append(subs, string(ent.Key[len(subsPrefix):]))
		return nil
	})
	if err != nil {
		return nil, err
	}
	now := e.clock.Now()
	alive := e.groupAlive(ctx, &Request{Now: now})
	var out []*Resource
	for _, sub := range subs {
		err := e.scanAll(ctx, e.tables.byType, typeIndexPrefix(sub, fullType), func(idx kv.Entry) error {
			ent, ok, err := e.indexed(ctx, idx)
			if !ok || err != nil {
				return err
			}
			r, err := decodeResource(ent.Value, ent.Revision)
			if err != nil {
				return err
			}
			if !r.Gone(now) && strings.EqualFold(r.Type, fullType) && alive(r) {
				out = append(out, r)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
