package engine

import (
	"context"
	"errors"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/kv"
)

// Companion is a resource the service makes together with another one
// (Azure ML's default datastores of a new workspace, and the blob
// containers they name): Body is imported at APIVersion as a seed file's
// body would be, by the Importer (or Validate) of the type at ID, with
// the caller of the request that made the other resource.
type Companion struct {
	ID         resourceid.ID
	Body       map[string]any
	APIVersion string
}

// CompanionMaker is implemented by strategies whose resources come with
// companions. Companions is called on every client PUT and PATCH and
// every import of the type, once the strategy has validated (or imported)
// r and before anything is stored; old is the stored resource, nil on
// create. It may change r (drop a mark its Validate left).
//
// The engine stores r and its companions in one store transaction, so
// neither is ever stored without the other. A companion beneath r when
// r is created is written as it is (nothing of r's can be there yet);
// any other companion is left out when a resource exists at its ID or
// its parent does not (the account a container would be made in is
// gone), and the write is retried when one appears meanwhile. A
// companion is not admitted (Azure Policy), and write observers are not
// told about it: the service made it, not a client.
type CompanionMaker interface {
	Companions(ctx context.Context, req *Request, r, old *Resource) ([]Companion, error)
}

// companionRecord is a companion made ready to store.
type companionRecord struct {
	r    *Resource
	t    *Type
	cond kv.Cond
}

// companions returns the companions t's strategy makes with r, built and
// checked by their types' strategies, without those that exist already.
func (e *Engine) companions(ctx context.Context, req *Request, t *Type, r, old *Resource) ([]companionRecord, error) {
	cm, ok := t.Strategy.(CompanionMaker)
	if !ok {
		return nil, nil
	}
	cs, err := cm.Companions(ctx, req, r, old)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	out := make([]companionRecord, 0, len(cs))
	for _, c := range cs {
		creq := &Request{Method: methodImport, Path: c.ID.String(), APIVersion: c.APIVersion, Caller: req.Caller, Now: req.Now, Header: make(map[string][]string)}
		ct, err := e.resolveType(creq, c.ID.ResourceType())
		if err != nil {
			return nil, err
		}
		if err := checkName(ct, c.ID.Name()); err != nil {
			return nil, err
		}
		cond, parent := kv.Any, r
		if old != nil || !c.ID.Parent().Equal(r.ID) {
			parent, err = e.companionParent(ctx, creq, c.ID, r)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			existing, err := e.load(ctx, c.ID)
			if err != nil {
				return nil, err
			}
			if existing != nil {
				continue
			}
			cond = kv.Absent
		}
		cr, err := e.prepareImport(ctx, creq, ct, canonicalID(c.ID, parent, ct), c.Body, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, companionRecord{r: cr, t: ct, cond: cond})
	}
	return out, nil
}

// companionParent returns the parent of a companion at id: r when that is
// r, else its nearest stored ancestor once every stored ancestor is
// checked (nil when none is stored; an error wrapping ErrNotFound when
// one is missing).
func (e *Engine) companionParent(ctx context.Context, req *Request, id resourceid.ID, r *Resource) (*Resource, error) {
	if id.Parent().Equal(r.ID) {
		return r, nil
	}
	return e.checkAncestors(ctx, req, id, true)
}

// putCompanions adds the companions' writes to b.
func (e *Engine) putCompanions(b *kv.Batch, cs []companionRecord) {
	for _, c := range cs {
		e.tables.put(b, c.r, c.cond)
	}
}

// isCompanion reports whether a store conflict was on one of cs.
func isCompanion(ce *kv.ConflictError, cs []companionRecord) bool {
	if ce.Space != kv.SpaceResources {
		return false
	}
	for _, c := range cs {
		if string(ce.Key) == string(resourceKey(c.r.ID)) {
			return true
		}
	}
	return false
}

// companionsStored runs the PostImporters of the stored companions.
func (e *Engine) companionsStored(ctx context.Context, req *Request, cs []companionRecord, rev int64) error {
	for _, c := range cs {
		c.r.Revision = rev
		if pi, ok := c.t.Strategy.(PostImporter); ok {
			creq := &Request{Method: methodImport, Path: c.r.ID.String(), APIVersion: c.r.Internal.CreatedAPIVersion, Caller: req.Caller, Now: req.Now, Header: make(map[string][]string)}
			if err := pi.PostImport(ctx, creq, c.r); err != nil {
				return err
			}
		}
	}
	return nil
}
