package usbsim_test

import (
	"testing"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// newUSB returns a system with the usb core and one host controller with a
// 4-port root hub.
func newUSB(t *testing.T) (*drvsim.System, *usbsim.USB, *usbsim.HCD) {
	t.Helper()
	sys := drvsim.NewSystem()
	t.Cleanup(sys.Close)
	u, err := usbsim.Init(sys)
	require.NoError(t, err)
	h, err := u.AddHCD(4)
	require.NoError(t, err)
	return sys, u, h
}

// usbEvents renders the usb-kind events recorded after seq.
func usbEvents(sys *drvsim.System, seq uint64) []string {
	return trace.Shorts(trace.Filter(sys.Log().Since(seq), trace.OfKind(usbsim.Kinds...)))
}
