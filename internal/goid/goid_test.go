package goid

import (
	"testing"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func TestGetDiffersAcrossGoroutinesAndIsStable(t *testing.T) {
	me := Get()
	require.NotZero(t, me)
	require.Equal(t, me, Get())
	other := make(chan uint64)
	go func() { other <- Get() }()
	require.NotEqual(t, me, <-other)
}
