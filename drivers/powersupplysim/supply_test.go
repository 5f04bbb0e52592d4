package powersupplysim_test

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/powersupplysim"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/kernel"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func parent(t *testing.T, sys *drvsim.System, name string) *device.Device {
	t.Helper()
	dev := sys.NewPlatformDevice(name)
	require.NoError(t, sys.RegisterDevice(dev))
	return dev
}

// A change of a supply reaches, through its changed_work, the
// external_power_changed callback of every supply it supplies; a supply
// reads a property from its supplier; an unregistered supply answers
// -ENODEV and its struct is freed with its device's last reference.
func TestChangedReachesSupplicants(t *testing.T) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	var notified atomic.Int32
	charger, err := powersupplysim.Register(parent(t, sys, "charger"), &powersupplysim.Desc{
		Name: "bq24190-charger", Type: powersupplysim.TypeUSB,
		GetProperty: func(*powersupplysim.PowerSupply, powersupplysim.Property) (int, error) {
			return 0, powersupplysim.ErrNoData
		},
		ExternalPowerChanged: func(psy *powersupplysim.PowerSupply) {
			assert.Equal(t, "bdi", psy.DrvData())
			notified.Add(1)
		},
	}, &powersupplysim.Config{DrvData: "bdi"})
	require.NoError(t, err)
	usb, err := powersupplysim.Register(parent(t, sys, "typec"), &powersupplysim.Desc{
		Name: "tcpm-source", Type: powersupplysim.TypeUSB,
		GetProperty: func(_ *powersupplysim.PowerSupply, p powersupplysim.Property) (int, error) {
			if p == powersupplysim.PropCurrentMax {
				return 3000000, nil
			}
			return 0, powersupplysim.ErrNoData
		},
	}, &powersupplysim.Config{SuppliedTo: []string{"bq24190-charger"}})
	require.NoError(t, err)
	assert.Equal(t, "/sys/devices/platform/charger/power_supply/bq24190-charger", charger.Dev().Path())

	usb.Changed()
	kernel.SystemWQ(sys).Flush()
	assert.Equal(t, int32(1), notified.Load())
	charger.Changed() // it supplies nobody
	kernel.SystemWQ(sys).Flush()
	assert.Equal(t, int32(1), notified.Load())

	v, err := charger.GetPropertyFromSupplier(powersupplysim.PropCurrentMax)
	require.NoError(t, err)
	assert.Equal(t, 3000000, v)
	_, err = usb.GetPropertyFromSupplier(powersupplysim.PropCurrentMax)
	assert.ErrorIs(t, err, powersupplysim.ErrNoDevice, "nobody supplies the supplier")
	_, err = charger.GetProperty(powersupplysim.PropStatus)
	assert.ErrorIs(t, err, powersupplysim.ErrNoData)
	assert.ErrorIs(t, charger.SetProperty(powersupplysim.PropStatus, 1), powersupplysim.ErrInvalid)

	held := charger.Dev().Get()
	charger.Unregister()
	_, err = charger.GetProperty(powersupplysim.PropStatus)
	assert.ErrorIs(t, err, powersupplysim.ErrNoDevice, "unregistered")
	assert.False(t, charger.Object().Freed(), "a reference is held")
	require.NoError(t, held.Put())
	assert.True(t, charger.Object().Freed(), "power_supply_dev_release")
	usb.Unregister()
	assert.Empty(t, sys.Memory().Reports())
	assert.Empty(t, sys.Memory().Leaks())
}

// Touching a supply after its last reference is KASAN's use-after-free.
func TestUseAfterUnregisterIsReported(t *testing.T) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	psy, err := powersupplysim.Register(parent(t, sys, "charger"), &powersupplysim.Desc{
		Name:        "charger",
		GetProperty: func(*powersupplysim.PowerSupply, powersupplysim.Property) (int, error) { return 1, nil },
	}, nil)
	require.NoError(t, err)
	psy.Unregister()
	_, _ = psy.GetPropertyFromSupplier(powersupplysim.PropCurrentMax)
	reports := sys.Memory().Reports()
	require.Len(t, reports, 1)
	assert.Equal(t, "BUG: KASAN: use-after-free in power_supply_get_property_from_supplier: psy", reports[0].Title)
}

func TestRegisterRefusesBadInput(t *testing.T) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	_, err := powersupplysim.Register(nil, &powersupplysim.Desc{Name: "x"}, nil)
	assert.ErrorIs(t, err, powersupplysim.ErrInvalid)
	_, err = powersupplysim.Register(parent(t, sys, "p"), &powersupplysim.Desc{Name: "x"}, nil)
	assert.ErrorIs(t, err, powersupplysim.ErrInvalid, "no get_property")
	_, err = powersupplysim.Register(device.New("loose"), &powersupplysim.Desc{Name: "x",
		GetProperty: func(*powersupplysim.PowerSupply, powersupplysim.Property) (int, error) { return 0, nil }}, nil)
	assert.ErrorIs(t, err, powersupplysim.ErrInvalid, "parent on no driver core")
}
