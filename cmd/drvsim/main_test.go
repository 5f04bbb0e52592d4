package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDefaultDemoPrintsReverseRelease(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 0, run(nil, &out, &errb))
	s := out.String()
	assert.Contains(t, s, "devm_action_release /sys/devices/platform/serial0: iounmap")
	assert.Less(t, bytes.Index(out.Bytes(), []byte("release /sys/devices/platform/serial0: iounmap")),
		bytes.Index(out.Bytes(), []byte("release /sys/devices/platform/serial0: clk_disable_unprepare")))
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 2, run([]string{"nope"}, &out, &errb))
	assert.Contains(t, errb.String(), "unknown command")
}
