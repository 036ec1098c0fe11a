package machinelearning

import "github.com/armlet/armlet/internal/engine"

// registerManagedNetwork is a placeholder until the area is built.
func registerManagedNetwork(e *engine.Engine, opts Options) {}
