package scenario_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/drivers/drmsim"
	"github.com/drvsim/drvsim/drivers/drmsim/udlsim/scenario"
)

func TestUnplugDemo(t *testing.T) {
	res, err := scenario.UnplugDemo()
	require.NoError(t, err)
	t.Log("\n" + res.Trace)
	assert.True(t, res.UnplugWaited, "drm_dev_unplug waited for the flush")
	assert.ErrorIs(t, res.FlushErr, drmsim.ErrNoDevice)
	require.Len(t, res.AfterErrs, 3)
	assert.ErrorIs(t, res.AfterErrs[0], drmsim.ErrNoDevice)
	assert.NoError(t, res.AfterErrs[1], "the shmem fault handler maps the pages again")
	assert.ErrorIs(t, res.AfterErrs[2], drmsim.ErrNoEntry, "the node is gone")
	assert.Contains(t, res.Trace, "drm_dev_unplug")
	assert.Contains(t, res.Trace, "REL drm_dev_init_release")
	again, err := scenario.UnplugDemo()
	require.NoError(t, err)
	assert.Equal(t, res.Trace, again.Trace, "deterministic")
}
