package env_test

import (
	"strings"
	"testing"

	"github.com/drvsim/drvsim/env"
	"github.com/stretchr/testify/assert"
)

func TestLeakChecksKeepOrder(t *testing.T) {
	e := env.New()
	e.AddLeakCheck(env.LeakDevres, func() []string { return []string{"a"} })
	e.AddLeakCheck("mine", func() []string { return nil })
	cs := e.LeakChecks()
	assert.Len(t, cs, 2)
	assert.Equal(t, env.LeakDevres, cs[0].Name)
	assert.Equal(t, []string{"a"}, cs[0].Check())
	assert.Equal(t, "mine", cs[1].Name)
}

func takeHere(e *env.Env) env.Origin { return e.Origin(0) }

func TestOriginNamesItsCaller(t *testing.T) {
	e := env.New()
	o := takeHere(e)
	assert.Equal(t, "", o.Task)
	assert.Equal(t, uint64(1), o.Seq)
	assert.True(t, strings.HasPrefix(o.Site(), "env_test.TestOriginNamesItsCaller (leak_test.go:"), o.Site())
	assert.True(t, strings.HasPrefix(o.String(), "by task <setup> at trace seq 1:\n    env_test.TestOriginNamesItsCaller (leak_test.go:"), o.String())
}
