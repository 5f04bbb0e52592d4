package bq24190_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/i2csim"
	"github.com/drvsim/drvsim/drivers/powersupplysim"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/zoo/bq24190"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func supply(t *testing.T, sys *drvsim.System, name string) *powersupplysim.PowerSupply {
	t.Helper()
	for _, c := range chardev.Classes(sys) {
		if c.Name() != powersupplysim.ClassName {
			continue
		}
		for _, d := range c.Devices() {
			if d.Name() == name {
				return d.Drvdata().(*powersupplysim.PowerSupply)
			}
		}
	}
	t.Fatalf("no supply %s", name)
	return nil
}

// Both versions bind a bq24190, register its charger and battery, follow
// their supplier's current limit 300 ms after it changes, answer their
// properties and the chip's interrupt, and unbind cleanly when the work
// is done; a chip of another part number, or no interrupt, fails the
// probe.
func TestChargerFollowsItsSupplier(t *testing.T) {
	for _, v := range []bq24190.Variant{bq24190.Before, bq24190.After} {
		sys := drvsim.NewSystem()
		i2c, err := i2csim.Init(sys)
		require.NoError(t, err)
		adap, err := i2c.AddAdapter(nil, "sim-i2c")
		require.NoError(t, err)
		chip := bq24190.NewChip()
		adap.Connect(0x6b, chip)
		drv := bq24190.Driver(v)
		require.NoError(t, i2c.AddDriver(drv))
		client, err := adap.NewClient(i2csim.BoardInfo{Type: "bq24190", Addr: 0x6b, IRQ: 42})
		require.NoError(t, err)
		require.Equal(t, "bq24190-charger", client.Dev().DriverName())
		port := sys.NewPlatformDevice("typec")
		require.NoError(t, sys.RegisterDevice(port))
		usb, err := powersupplysim.Register(port, &powersupplysim.Desc{Name: "usb",
			GetProperty: func(*powersupplysim.PowerSupply, powersupplysim.Property) (int, error) { return 1500000, nil }},
			&powersupplysim.Config{SuppliedTo: []string{bq24190.ChargerName}})
		require.NoError(t, err)

		usb.Changed()
		kernel.SystemWQ(sys).Flush() // external_power_changed queues the work, 300 ms later
		sys.Advance(bq24190.InputCurrentLimitDelay)
		kernel.SystemWQ(sys).Flush()
		charger := supply(t, sys, bq24190.ChargerName)
		limit, err := charger.GetProperty(powersupplysim.PropInputCurrentLimit)
		require.NoError(t, err)
		assert.Equal(t, 1500000, limit)
		isc, _ := chip.ReadReg(bq24190.RegISC)
		assert.Equal(t, uint8(5), isc&0x07, "IINLIM 1.5 A")
		_ = chip.WriteReg(bq24190.RegSS, 1<<2)
		online, err := charger.GetProperty(powersupplysim.PropOnline)
		require.NoError(t, err)
		assert.Equal(t, 1, online)
		_, err = charger.GetProperty(powersupplysim.PropStatus)
		assert.ErrorIs(t, err, powersupplysim.ErrNoData)
		_ = chip.WriteReg(bq24190.RegF, 0x20)
		status, err := supply(t, sys, bq24190.BatteryName).GetProperty(powersupplysim.PropStatus)
		require.NoError(t, err)
		assert.Equal(t, 0x20, status)

		require.NoError(t, kernel.RaiseIRQ(sys, 42)) // bq24190_irq_handler_thread
		kernel.SynchronizeIRQ(sys, 42)
		kernel.SystemWQ(sys).Flush()
		assert.Contains(t, sys.Log().String(), "bq24190_check_status")

		require.NoError(t, i2c.DelDriver(drv))
		usb.Unregister()
		kernel.SystemWQ(sys).Flush()
		assert.Empty(t, sys.Memory().Reports())
		assert.Empty(t, sys.Memory().Leaks())

		client.Unregister()
		other := bq24190.NewChip()
		_ = other.WriteReg(bq24190.RegVPRS, 0x1<<3)
		adap.Connect(0x6a, other)
		require.NoError(t, i2c.AddDriver(drv))
		_, err = adap.NewClient(i2csim.BoardInfo{Type: "bq24190", Addr: 0x6a, IRQ: 43})
		require.NoError(t, err)
		adap.Connect(0x6c, bq24190.NewChip())
		noIRQ, err := adap.NewClient(i2csim.BoardInfo{Type: "bq24190", Addr: 0x6c})
		require.NoError(t, err)
		assert.Empty(t, noIRQ.Dev().DriverName())
		assert.Contains(t, sys.Log().String(), "dev_err /sys/devices/i2c-0/0-006a: Hardware init failed")
		assert.Contains(t, sys.Log().String(), "Can't get irq info")
		require.NoError(t, i2c.DelDriver(drv))
		assert.Empty(t, sys.Memory().Leaks())
		sys.Close()
	}
}
