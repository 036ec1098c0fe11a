package engine

import "context"

// Admitter is an admission step run on every client PUT and PATCH of a
// stored type (Azure Policy's append, modify and deny run here): it is
// called once the engine has built desired (the PUT body, or the PATCH
// merged into the stored resource; old is the stored resource, nil on
// create) and before the type's strategy validates it. An Admitter may
// change desired; a non-nil error refuses the request and nothing is
// stored. Seed imports and virtual types are not admitted.
//
// Admission runs before Validate so that whatever an admitter changes is
// validated like the client's own content, and so that admitters see the
// request as the client sent it (Azure evaluates policy on the request,
// before the resource provider fills in defaults).
type Admitter func(ctx context.Context, req *Request, desired, old *Resource) error

// WriteObserver is told about every resource a client PUT or PATCH
// stored, after the store transaction committed (Azure Policy's
// compliance of the written resource is recorded here).
type WriteObserver func(ctx context.Context, req *Request, r *Resource)

// AddAdmitter appends f to the admission chain; admitters run in the
// order added.
func (e *Engine) AddAdmitter(f Admitter) {
	e.hooksMu.Lock()
	defer e.hooksMu.Unlock()
	e.admitters = append(e.admitters, f)
}

// OnWrite registers f to observe stored client writes.
func (e *Engine) OnWrite(f WriteObserver) {
	e.hooksMu.Lock()
	defer e.hooksMu.Unlock()
	e.onWrite = append(e.onWrite, f)
}

func (e *Engine) admit(ctx context.Context, req *Request, desired, old *Resource) error {
	e.hooksMu.RLock()
	chain := e.admitters
	e.hooksMu.RUnlock()
	for _, f := range chain {
		if err := f(ctx, req, desired, old); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) written(ctx context.Context, req *Request, r *Resource) {
	e.hooksMu.RLock()
	obs := e.onWrite
	e.hooksMu.RUnlock()
	for _, f := range obs {
		f(ctx, req, r)
	}
}
