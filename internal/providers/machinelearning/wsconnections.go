package machinelearning

import "github.com/armlet/armlet/internal/engine"

// registerWorkspaceConnections is a placeholder until the area is built.
func registerWorkspaceConnections(e *engine.Engine, opts Options) {}
