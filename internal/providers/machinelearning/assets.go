package machinelearning

import "github.com/armlet/armlet/internal/engine"

// registerAssets is a placeholder until the area is built.
func registerAssets(e *engine.Engine, opts Options) {}
