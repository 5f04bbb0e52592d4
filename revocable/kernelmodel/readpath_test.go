package kernelmodel_test

import (
	"testing"

	"github.com/drvsim/drvsim/revocable/kernelmodel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each design's read, counted: the per-access handles of the merged
// design, v8 and v10 take and drop a reference on the provider for every
// read (two writes to a line all readers share; the merged design's take
// is a compare-and-swap inside an RCU section), where v3's handle and
// drvsim's Consumer are opened once and a read only enters an SRCU
// section.
func TestReadPaths(t *testing.T) {
	rps, err := kernelmodel.ReadPaths()
	require.NoError(t, err)
	got := map[string]kernelmodel.ReadPath{}
	var order []string
	for _, rp := range rps {
		got[rp.Design] = rp
		order = append(order, rp.Design)
	}
	assert.Equal(t, []string{"v3", "merged", "v8", "v10", "drvsim"}, order)
	for design, want := range map[string][3]int{ // ref writes, SRCU, RCU
		"v3": {0, 1, 0}, "merged": {2, 1, 1}, "v8": {2, 1, 0}, "v10": {2, 1, 0}, "drvsim": {0, 1, 0},
	} {
		rp := got[design]
		assert.Equal(t, want, [3]int{rp.RefWrites, rp.SRCU, rp.RCU}, design)
		assert.NotEmpty(t, rp.Form, design)
	}
}
