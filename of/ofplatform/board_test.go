package ofplatform_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/of"
	"github.com/drvsim/drvsim/of/ofplatform"
	"github.com/drvsim/drvsim/trace"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// boardRig is a machine with the test board's drivers registered and a
// record of what they did, in order.
type boardRig struct {
	sys    *drvsim.System
	events []string
}

func (r *boardRig) note(s string) { r.events = append(r.events, s) }

func newBoardRig(t *testing.T) *boardRig {
	t.Helper()
	r := &boardRig{sys: drvsim.NewSystem()}
	t.Cleanup(r.sys.Close)
	drv := func(name, compat string, probe func(*device.Device) error) *driver.Driver {
		d := platform.NewDriver(name, func(dev *device.Device) error {
			if probe != nil {
				if err := probe(dev); err != nil {
					return err
				}
			}
			r.note("probe " + dev.Name())
			return nil
		}, func(dev *device.Device) { r.note("remove " + dev.Name()) })
		d.OFMatchTable = []driver.OFDeviceID{{Compatible: compat}}
		return d
	}
	reg := drv("reg-fixed", "regulator-fixed", nil)
	reg.SyncState = func(dev *device.Device) { r.note("sync_state " + dev.Name()) }
	for _, d := range []*driver.Driver{
		drv("acme-sensor", "acme,sensor", nil),
		drv("acme-led", "acme,led", nil),
		drv("acme-i2c", "acme,i2c", ofplatform.DevmPopulate),
		drv("acme-gpio", "acme,gpio", nil),
		reg,
	} {
		require.NoError(t, r.sys.RegisterDriver(d))
	}
	src, err := os.ReadFile(filepath.Join("testdata", "board.dts"))
	require.NoError(t, err)
	_, err = of.Load(r.sys, "board.dts", src)
	require.NoError(t, err)
	return r
}

// The board populates: devices named as of_device_make_bus_id names them,
// the disabled UART skipped, every consumer bound after its suppliers, and
// the regulator's sync_state once both its consumers (and the I2C
// controller) are bound, after populate resumes sync_state.
func TestPopulateBoard(t *testing.T) {
	r := newBoardRig(t)
	require.NoError(t, ofplatform.Populate(r.sys))
	t.Log(r.sys.Tree())
	var names []string
	for _, d := range r.sys.BusDevices(platform.Name) {
		names = append(names, d.Name()+"="+d.State().String())
	}
	assert.ElementsMatch(t, []string{"regulator-3v3=bound", "soc=bound", "10000000.gpio=bound",
		"10001000.i2c=bound", "10001000.i2c:sensor@48=bound", "10002000.led=bound"}, names)
	assert.Equal(t, []string{
		"probe regulator-3v3",
		"probe 10000000.gpio",
		"probe 10001000.i2c:sensor@48",
		"probe 10001000.i2c",
		"probe 10002000.led",
		"sync_state regulator-3v3",
	}, r.events)
	assert.Contains(t, r.sys.Tree(), "10002000.led -> 10000000.gpio flags=AUTOPROBE_CONSUMER|INFERRED")
	for _, e := range r.sys.Events() {
		if e.Kind == trace.Warn {
			t.Errorf("warning: %s", e)
		}
	}
	_ = strings.Contains
}
