package machinelearning

import "github.com/armlet/armlet/internal/engine"

// registerComputes is a placeholder until the area is built.
func registerComputes(e *engine.Engine, opts Options) {}
