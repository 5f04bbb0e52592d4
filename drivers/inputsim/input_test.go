package inputsim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/inputsim"
	"github.com/drvsim/drvsim/internal/raceexit"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// A registered device reports events; unregistered with no handle open
// it is freed at once, and an event reported on it then is a
// use-after-free; a handle open keeps it until closed.
func TestUnregisterFreesUnlessHeld(t *testing.T) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	parent := sys.NewPlatformDevice("remote")
	require.NoError(t, sys.RegisterDevice(parent))

	held := inputsim.Allocate(sys)
	held.Name = "held"
	require.NoError(t, held.Register(parent))
	assert.ErrorIs(t, held.Register(parent), inputsim.ErrInvalid)
	assert.Equal(t, "/sys/devices/platform/remote/input/input0", held.Dev().Path())
	held.ReportKey(28, 5)
	held.Sync()
	assert.Equal(t, []inputsim.Event{{inputsim.EvKey, 28, 1}, {inputsim.EvSyn, 0, 0}}, held.Events())
	held.Open()
	held.Unregister()
	assert.False(t, held.Object().Freed(), "a handle holds it")
	held.Close()
	assert.True(t, held.Object().Freed())

	gone := inputsim.Allocate(sys)
	require.NoError(t, gone.Register(parent))
	gone.Unregister()
	assert.True(t, gone.Object().Freed())
	gone.ReportKey(28, 0)
	reports := sys.Memory().Reports()
	require.Len(t, reports, 1)
	assert.Equal(t, "BUG: KASAN: use-after-free in input_event: type 1 code 28", reports[0].Title)

	loose := inputsim.Allocate(sys)
	assert.ErrorIs(t, loose.Register(device.New("loose")), inputsim.ErrInvalid)
	loose.Free()
}
