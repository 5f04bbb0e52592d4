package scenario_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/drivers/drmsim/udlsim/scenario"
	"github.com/drvsim/drvsim/trace"
)

// Events are the events Trace prints, one for one.
func TestUnplugDemoEventsAreTheTrace(t *testing.T) {
	res, err := scenario.UnplugDemo()
	require.NoError(t, err)
	evs := res.Events()
	require.NotEmpty(t, evs)
	assert.Equal(t, trace.Note, evs[0].Kind)
	assert.Equal(t, res.Trace, trace.Text(evs))
	assert.Nil(t, (*scenario.DemoResult)(nil).Events())
}
