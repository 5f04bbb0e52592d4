// Package layers holds drvsim's layering test: the table of the module's
// packages by layer, and the checks that imports only go down and that no
// model of the kernel depends on the simulator. It has no code of its own.
package layers
