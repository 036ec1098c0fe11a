package machinelearning

import "github.com/armlet/armlet/internal/engine"

// registerSchedules is a placeholder until the area is built.
func registerSchedules(e *engine.Engine, opts Options) {}
