package main

import "errors"

// demoCmd is `hcnet demo`.
type demoCmd struct{}

func (d *demoCmd) Run(c *cli) error {
	return errors.New("the demo needs chassis in namespaces, which `hcnet run` does not start yet")
}
