package sensor_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/sensor"
	"github.com/drvsim/drvsim/internal/raceexit"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// load builds a machine with variant v's module and a bound sensor.
func load(t *testing.T, v sensor.Variant) (*drvsim.System, *device.Device) {
	t.Helper()
	sys := drvsim.NewSystem()
	t.Cleanup(sys.Close)
	_, err := sensor.Init(sys, v)
	require.NoError(t, err)
	pdev := sys.NewPlatformDevice("sensor")
	require.NoError(t, sys.RegisterDevice(pdev))
	require.NotNil(t, pdev.Drvdata(), "bound")
	return sys, pdev
}

// Each driver, unbound while /dev/sensor0 is open, on plain goroutines:
// the file is read and closed afterwards. The refcounted, revocable and
// drain drivers answer -ENODEV and leave no memory behind; the
// devm-embedded cdev is reported at the close's cdev_put, and the machine
// goes on.
func TestUnbindWithFileOpen(t *testing.T) {
	for _, v := range sensor.Variants {
		t.Run(string(v), func(t *testing.T) {
			sys, pdev := load(t, v)
			f, err := chardev.Open(sys, sensor.Node)
			require.NoError(t, err)
			b, err := f.Read(4)
			require.NoError(t, err)
			assert.Len(t, b, 4)
			require.NoError(t, sys.UnregisterDevice(pdev))
			_, err = f.Read(4)
			assert.ErrorIs(t, err, chardev.ErrNoDevice)
			require.NoError(t, f.Close())
			reports := sys.Memory().Reports()
			if v == sensor.DevmCdev {
				require.Len(t, reports, 1)
				assert.Equal(t, "BUG: KASAN: use-after-free in __fput: cdev_put(inode->i_cdev)", reports[0].Title)
			} else {
				assert.Empty(t, reports)
			}
			assert.Empty(t, sys.Memory().Leaks())
		})
	}
}

// The drain driver's unbind: cdev_del revokes the file operations, runs
// the driver's release for the open file and drops its cdev reference,
// before devres frees the struct embedding the cdev; the close runs
// nothing of the driver's.
func TestDrainUnbindOrder(t *testing.T) {
	sys, pdev := load(t, sensor.Drain)
	f, err := chardev.Open(sys, sensor.Node)
	require.NoError(t, err)
	seq := sys.Log().Seq()
	require.NoError(t, sys.UnregisterDevice(pdev))
	require.NoError(t, f.Close())
	var got []string
	for _, e := range sys.Log().Since(seq) {
		switch e.Func {
		case "cdev_del", "cdev_revoke", "devm_action_release", "kfree", "__fput":
			got = append(got, e.Short())
		}
	}
	assert.Equal(t, []string{
		"cdev_del: 254:0, 1 file reference(s) left",
		"cdev_revoke sensor0: new calls refused, draining 0 active call(s)",
		"cdev_revoke sensor0: /dev/sensor0: release 0, cdev reference dropped",
		"cdev_revoke sensor0: done: 1 open file(s) released and detached",
		"devm_action_release /sys/devices/platform/sensor: devm_kfree struct sensor",
		"kfree: struct sensor (object #2)",
		"devm_action_release /sys/devices/platform/sensor: iounmap sensor regs",
		"kfree: sensor regs (object #1)",
		"__fput /dev/sensor0: release 0",
	}, got)
}

func TestInitUnknownVariant(t *testing.T) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	_, err := sensor.Init(sys, "sensor-none")
	assert.ErrorIs(t, err, device.ErrInvalid)
}
