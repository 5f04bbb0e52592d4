package kernelmodel_test

import (
	"testing"

	"github.com/drvsim/drvsim/internal/raceexit"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}
