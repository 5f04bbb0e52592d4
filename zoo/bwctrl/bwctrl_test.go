package bwctrl_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/drivers/pcisim"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/zoo/bwctrl"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// Bound, both versions enable the notifications, clear the status bits
// and handle a bandwidth event (counting it, clearing its status); an
// interrupt without one is not theirs; unbound, they disable the
// notifications and release the interrupt.
func TestNotifications(t *testing.T) {
	for _, v := range []bwctrl.Variant{bwctrl.Before, bwctrl.After} {
		sys := drvsim.NewSystem()
		p, err := pcisim.Init(sys)
		require.NoError(t, err)
		require.NoError(t, p.RegisterPortService(bwctrl.Driver(v, p)))
		port, err := p.AddRootPort("0000:00:1c.0", 16, pcisim.ServiceBWCtrl)
		require.NoError(t, err)
		srv := port.Services()[0]
		assert.Equal(t, "pcie_bwctrl", srv.Dev().DriverName())
		ctl, _ := port.CapabilityReadWord(pcisim.LnkCtl)
		assert.Equal(t, uint16(pcisim.LnkCtlLBMIE|pcisim.LnkCtlLABIE), ctl)
		assert.Equal(t, 1, kernel.IRQStat(sys, 16).Handlers)

		require.NoError(t, kernel.RaiseIRQ(sys, 16))
		assert.Equal(t, uint64(1), kernel.IRQStat(sys, 16).Unhandled, "no event: IRQ_NONE")
		port.Latch(pcisim.LnkSta, pcisim.LnkStaLBMS)
		require.NoError(t, kernel.RaiseIRQ(sys, 16))
		sta, _ := port.CapabilityReadWord(pcisim.LnkSta)
		assert.Zero(t, sta, "the handler cleared the event")
		assert.Equal(t, uint64(1), kernel.IRQStat(sys, 16).Unhandled)

		require.NoError(t, sys.Unbind(srv.Dev()))
		ctl, _ = port.CapabilityReadWord(pcisim.LnkCtl)
		assert.Zero(t, ctl)
		assert.Equal(t, 0, kernel.IRQStat(sys, 16).Handlers)
		assert.Empty(t, sys.Memory().Reports())
		assert.Empty(t, sys.Memory().Leaks())
		sys.Close()
	}
}
