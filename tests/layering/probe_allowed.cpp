// Must compile: the positive control of the probes. The same kind of object
// library, linked the same way, including only what its layer may see. If
// this fails, the probes' failures prove nothing.
#include "masklens/engine/metrics.h"
int probe()
{
    return masklens::kMetricCount;
}
