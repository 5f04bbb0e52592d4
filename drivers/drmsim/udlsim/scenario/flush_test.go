package scenario_test

import (
	"testing"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/drivers/drmsim/udlsim"
	"github.com/drvsim/drvsim/drivers/drmsim/udlsim/scenario"
	"github.com/drvsim/drvsim/sim"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func TestFlushVsUnplugOneRun(t *testing.T) {
	for _, v := range []udlsim.Variant{udlsim.Classic, udlsim.Revocable} {
		sc := &scenario.FlushVsUnplug{Variant: v}
		res := sim.Run(sim.EnvConfig(t.Name(), 1), sc.Scenario)
		sc.Close()
		require.False(t, res.Failed(), res.String())
		t.Log(res.TraceText())
		assert.NotEmpty(t, res.Steps)
	}
}
