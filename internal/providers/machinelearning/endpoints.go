package machinelearning

import "github.com/armlet/armlet/internal/engine"

// registerEndpoints is a placeholder until the area is built.
func registerEndpoints(e *engine.Engine, opts Options) {}
