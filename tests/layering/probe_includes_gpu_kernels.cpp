// Must NOT compile in a target linked only to masklens_gpu: the kernel and
// planning headers are private to the CUDA path (gpu/internal).
#include "masklens/gpu/region_kernels.h"
int probe()
{
    return 0;
}
