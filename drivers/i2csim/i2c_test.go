package i2csim_test

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/i2csim"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sim"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func newI2C(t *testing.T) (*drvsim.System, *i2csim.I2C) {
	t.Helper()
	sys := drvsim.NewSystem()
	t.Cleanup(sys.Close)
	i, err := i2csim.Init(sys)
	require.NoError(t, err)
	return sys, i
}

// A client instantiated on an adapter binds the driver whose id table
// names its type; the driver talks to the chip wired at its address;
// deleting the adapter unbinds and unregisters the client first.
func TestClientProbeTransferRemove(t *testing.T) {
	sys, i := newI2C(t)
	var probed, removed atomic.Int32
	drv := &i2csim.Driver{Name: "tmp102", IDTable: []i2csim.DeviceID{{Name: "tmp102", Data: 102}},
		Probe: func(c *i2csim.Client, id i2csim.DeviceID) error {
			assert.Equal(t, 102, id.Data)
			probed.Add(1)
			c.SetClientdata("state")
			return c.WriteByteData(0x01, 0x60)
		},
		Remove: func(c *i2csim.Client) {
			assert.Equal(t, "state", c.Clientdata())
			removed.Add(1)
		}}
	require.NoError(t, i.AddDriver(drv))
	assert.ErrorIs(t, i.AddDriver(drv), i2csim.ErrBusy)
	adap, err := i.AddAdapter(nil, "sim-i2c")
	require.NoError(t, err)
	assert.Equal(t, "i2c-0", adap.Dev().Name())
	chip := &i2csim.Regs{}
	adap.Connect(0x48, chip)
	c, err := adap.NewClient(i2csim.BoardInfo{Type: "tmp102", Addr: 0x48, IRQ: 5})
	require.NoError(t, err)
	assert.Equal(t, "0-0048", c.Dev().Name())
	assert.Equal(t, int32(1), probed.Load())
	assert.Equal(t, "tmp102", c.Dev().DriverName())
	v, err := c.ReadByteData(0x01)
	require.NoError(t, err)
	assert.Equal(t, uint8(0x60), v)
	assert.Same(t, c, i.ClientOf(c.Dev()))
	assert.Nil(t, i.AdapterOf(c.Dev()))
	assert.Same(t, adap, i.AdapterOf(adap.Dev()))
	assert.Equal(t, []*i2csim.Adapter{adap}, i.Adapters())

	_, err = adap.NewClient(i2csim.BoardInfo{Type: "tmp102", Addr: 0x48})
	assert.ErrorIs(t, err, i2csim.ErrBusy)
	_, err = adap.NewClient(i2csim.BoardInfo{Type: "tmp102", Addr: 0x78})
	assert.ErrorIs(t, err, i2csim.ErrInvalid)
	empty, err := adap.NewClient(i2csim.BoardInfo{Type: "eeprom", Addr: 0x50})
	require.NoError(t, err)
	assert.Empty(t, empty.Dev().DriverName(), "no driver for eeprom")
	_, err = empty.ReadByteData(0)
	assert.ErrorIs(t, err, i2csim.ErrNoDeviceOrAddress)

	adap.Del()
	assert.Equal(t, int32(1), removed.Load())
	assert.Nil(t, sys.FindDevice(i2csim.BusName, "0-0048"))
	assert.Nil(t, sys.FindDevice(i2csim.BusName, "i2c-0"))
	require.NoError(t, i.DelDriver(drv))
	assert.ErrorIs(t, i.DelDriver(drv), i2csim.ErrInvalid)
}

// i2c_del_adapter waits for the adapter's last reference: a holder of
// i2c_get_adapter keeps it waiting until i2c_put_adapter, in every
// interleaving. Bus notifiers see the adapter added and deleted.
func TestDelAdapterWaitsForReferences(t *testing.T) {
	var systems []*drvsim.System
	defer func() {
		for _, sys := range systems {
			sys.Close()
		}
	}()
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.EnvConfig(t.Name(), 0)}, func(s *sim.Sim) {
		sys := drvsim.NewSystem(drvsim.OnSim(s))
		systems = append(systems, sys)
		i, err := i2csim.Init(sys)
		if err != nil {
			panic(err)
		}
		var actions []bus.Action
		if _, err := sys.RegisterNotifier(i2csim.BusName, func(a bus.Action, dev *device.Device) {
			if i.AdapterOf(dev) != nil {
				actions = append(actions, a)
			}
		}); err != nil {
			panic(err)
		}
		adap, err := i.AddAdapter(nil, "sim-i2c")
		if err != nil {
			panic(err)
		}
		if i.GetAdapter(7) != nil {
			panic("adapter 7 found")
		}
		held := i.GetAdapter(0)
		if held != adap {
			panic("i2c_get_adapter(0) is not the adapter")
		}
		var deleted, put atomic.Bool
		s.Go("del", func() {
			adap.Del()
			if !put.Load() {
				panic("i2c_del_adapter returned with a reference held")
			}
			deleted.Store(true)
			want := []bus.Action{bus.NotifyAddDevice, bus.NotifyDelDevice, bus.NotifyRemovedDevice}
			if !slices.Equal(actions, want) {
				panic(fmt.Sprintf("notifications %v, want %v", actions, want))
			}
			if i.GetAdapter(0) != nil {
				panic("a deleted adapter is found")
			}
		})
		s.Go("user", func() {
			kernel.CondResched(s, "holding i2c-0")
			put.Store(true)
			held.Put()
		})
	})
	require.False(t, res.Failed(), "%s", res)
	assert.True(t, res.Exhausted)
}

func TestInitNeedsAMachine(t *testing.T) {
	_, err := i2csim.Init(nil)
	assert.ErrorIs(t, err, i2csim.ErrInvalid)
	var core *bus.Core
	_, err = i2csim.Init(core)
	assert.ErrorIs(t, err, i2csim.ErrInvalid)
}
