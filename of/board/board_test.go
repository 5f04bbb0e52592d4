package board_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/of"
	"github.com/drvsim/drvsim/of/board"
	"github.com/drvsim/drvsim/of/ofplatform"
	"github.com/drvsim/drvsim/trace"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func boot(t *testing.T) (*drvsim.System, *board.Board) {
	t.Helper()
	sys := drvsim.NewSystem()
	t.Cleanup(sys.Close)
	b, err := board.Register(sys)
	require.NoError(t, err)
	require.NoError(t, b.Boot(board.Source))
	return sys, b
}

func noWarnings(t *testing.T, sys *drvsim.System) {
	t.Helper()
	for _, e := range sys.Events() {
		if e.Kind == trace.Warn {
			t.Errorf("warning: %s", e)
		}
	}
	assert.Empty(t, sys.Memory().Reports())
}

func dev(t *testing.T, sys *drvsim.System, path string) *device.Device {
	t.Helper()
	d := ofplatform.FindDevice(of.TreeOf(sys).FindByPath(path))
	require.NotNil(t, d, path)
	return d
}

// The board boots: every device bound, the sensor's model from the best
// match of its compatible list, its interrupt delivered, its file read.
func TestBoardBoots(t *testing.T) {
	sys, _ := boot(t)
	for _, p := range []string{"/regulator-3v3", "/soc", "/soc/gpio@10000000", "/soc/i2c@10001000", "/soc/i2c@10001000/sensor@48", "/soc/led@10002000"} {
		assert.Equal(t, device.StateBound, dev(t, sys, p).State(), p)
	}
	assert.True(t, sys.StateSynced(dev(t, sys, "/regulator-3v3")))
	s := dev(t, sys, "/soc/i2c@10001000/sensor@48")
	require.NoError(t, kernel.RaiseIRQ(sys, 5))
	assert.Equal(t, 1, board.Samples(s))
	f, err := chardev.Open(sys, "/dev/sensor0")
	require.NoError(t, err)
	data, err := f.Read(4)
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 0, 0x53, 0xfc}, data, "21500 m°C: the tmp117 entry scored best")
	require.NoError(t, f.Close())
	noWarnings(t, sys)
}

// The sensor overlay adds sensor@49: its device is made under the I2C
// controller (a populated bus), linked to its suppliers, probed
// (/dev/sensor1); removing the overlay while the file is open unbinds and
// deletes it, the file then answers -ENODEV and closes cleanly, and the
// tree is as before.
func TestSensorOverlayHotplug(t *testing.T) {
	sys, b := boot(t)
	before := b.Tree().String()
	ov, err := b.Tree().ApplyOverlay("sensor-overlay.dtso", board.SensorOverlay)
	require.NoError(t, err)
	s := dev(t, sys, "/soc/i2c@10001000/sensor@49")
	assert.Equal(t, "10001000.i2c:sensor@49", s.Name())
	assert.Equal(t, device.StateBound, s.State())
	var sups []string
	for _, l := range s.Suppliers() {
		sups = append(sups, l.Supplier.Name()+" "+l.Flags.String())
	}
	assert.Equal(t, []string{"regulator-3v3 AUTOPROBE_CONSUMER|INFERRED", "10000000.gpio AUTOPROBE_CONSUMER|INFERRED"}, sups)
	f, err := chardev.Open(sys, "/dev/sensor1")
	require.NoError(t, err)
	data, err := f.Read(4)
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 0, 0x61, 0xa8}, data, "generic sensor: 25000")

	require.NoError(t, b.Tree().RemoveOverlay(ov.ID()))
	assert.Equal(t, device.StateRemoved, s.State())
	assert.Nil(t, b.Tree().FindByPath("/soc/i2c@10001000/sensor@49"))
	_, err = f.Read(4)
	assert.ErrorIs(t, err, chardev.ErrNoDevice)
	require.NoError(t, f.Close())
	assert.Equal(t, before, b.Tree().String())
	noWarnings(t, sys)
}

// The UART overlay turns a disabled node on: a device is made for it
// (no driver binds), and removing the overlay destroys it again.
func TestUARTOverlayStatus(t *testing.T) {
	sys, b := boot(t)
	uart := b.Tree().FindByPath("/soc/uart@10003000")
	assert.Nil(t, ofplatform.FindDevice(uart))
	ov, err := b.Tree().ApplyOverlay("uart-overlay.dtso", board.UARTOverlay)
	require.NoError(t, err)
	d := ofplatform.FindDevice(uart)
	require.NotNil(t, d)
	assert.Equal(t, "10003000.uart", d.Name())
	assert.Equal(t, device.StateAdded, d.State())
	require.NoError(t, b.Tree().RemoveOverlay(ov.ID()))
	assert.Nil(t, ofplatform.FindDevice(uart))
	assert.False(t, uart.Available())
	noWarnings(t, sys)
}
