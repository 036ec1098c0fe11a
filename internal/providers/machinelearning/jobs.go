package machinelearning

import "github.com/armlet/armlet/internal/engine"

// registerJobs is a placeholder until the area is built.
func registerJobs(e *engine.Engine, opts Options) {}
