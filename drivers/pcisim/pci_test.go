package pcisim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/drivers/pcisim"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/kernel"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// A Root Port gets one service device per service, each bound to the
// driver of its service; the services share the port's interrupt; status
// bits are write-one-to-clear; removing the port unbinds the services.
func TestPortServices(t *testing.T) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	p, err := pcisim.Init(sys)
	require.NoError(t, err)
	var calls []string
	mk := func(name string, svc pcisim.Service) *pcisim.ServiceDriver {
		return &pcisim.ServiceDriver{Name: name, Service: svc,
			Probe: func(srv *pcisim.Device) error {
				return kernel.RequestIRQ(sys, srv.IRQ(), func(int, any) kernel.IRQReturn {
					calls = append(calls, name)
					return kernel.IRQHandled
				}, kernel.IRQFShared, name, srv)
			},
			Remove: func(srv *pcisim.Device) { kernel.FreeIRQ(sys, srv.IRQ(), srv) },
		}
	}
	hp, bw := mk("pciehp", pcisim.ServiceHP), mk("pcie_bwctrl", pcisim.ServiceBWCtrl)
	require.NoError(t, p.RegisterPortService(hp))
	assert.ErrorIs(t, p.RegisterPortService(hp), pcisim.ErrBusy)
	port, err := p.AddRootPort("0000:00:1c.0", 16, pcisim.ServiceHP|pcisim.ServiceAER|pcisim.ServiceBWCtrl)
	require.NoError(t, err)
	require.NoError(t, p.RegisterPortService(bw))
	var names []string
	for _, s := range port.Services() {
		names = append(names, s.Dev().Name()+"="+s.Dev().DriverName())
		assert.Same(t, port, s.Port())
	}
	assert.Equal(t, []string{"0000:00:1c.0:pcie002=", "0000:00:1c.0:pcie004=pciehp", "0000:00:1c.0:pcie010=pcie_bwctrl"}, names)
	assert.Equal(t, "pcieport", port.Dev().DriverName())

	require.NoError(t, kernel.RaiseIRQ(sys, 16))
	assert.Equal(t, []string{"pciehp", "pcie_bwctrl"}, calls, "one line, every service's handler")

	port.Latch(pcisim.LnkSta, pcisim.LnkStaLBMS|pcisim.LnkStaLABS)
	require.NoError(t, port.CapabilityWriteWord(pcisim.LnkSta, pcisim.LnkStaLBMS))
	v, err := port.CapabilityReadWord(pcisim.LnkSta)
	require.NoError(t, err)
	assert.Equal(t, uint16(pcisim.LnkStaLABS), v, "LBMS cleared by writing it, LABS kept")
	require.NoError(t, port.CapabilitySetWord(pcisim.LnkCtl, pcisim.LnkCtlLBMIE|pcisim.LnkCtlLABIE))
	require.NoError(t, port.CapabilityClearWord(pcisim.LnkCtl, pcisim.LnkCtlLABIE))
	v, _ = port.CapabilityReadWord(pcisim.LnkCtl)
	assert.Equal(t, uint16(pcisim.LnkCtlLBMIE), v)
	_, err = port.CapabilityReadWord(0x7)
	assert.ErrorIs(t, err, pcisim.ErrInvalid)

	require.NoError(t, p.UnregisterPortService(bw))
	assert.Equal(t, "", port.Services()[2].Dev().DriverName())
	require.NoError(t, port.Remove())
	assert.Empty(t, port.Services())
	assert.Equal(t, 0, kernel.IRQStat(sys, 16).Handlers)
}
