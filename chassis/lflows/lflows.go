package lflows

import (
	"hcnet/chassis/flowtable"
	"hcnet/chassis/physical"
	"hcnet/chassis/replica"
)

// Input is what a compilation reads.
type Input struct {
	SB       *replica.DB
	Physical physical.Input
	LocalDPs map[string]bool
}

// Compiler compiles logical flows, caching results between rounds.
type Compiler struct{}

// New returns a Compiler.
func New() *Compiler { return &Compiler{} }

// Compile returns the flows of every Logical_Flow of the local datapaths,
// by Logical_Flow UUID, and the flows it could not compile.
func (c *Compiler) Compile(in Input) (map[string][]flowtable.Flow, []error) {
	return nil, nil
}
