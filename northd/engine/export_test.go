package engine

// SetBulk sets the number of recomputed datapaths from which Apply rebuilds
// the flow index.
func SetBulk(e *Engine, n int) { e.bulk = n }
