package machinelearning

import "github.com/armlet/armlet/internal/engine"

// registerDatastores is a placeholder until the area is built.
func registerDatastores(e *engine.Engine, opts Options) {}
