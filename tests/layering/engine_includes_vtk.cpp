// Must NOT compile: masklens_engine gives no access to VTK.
#include <vtkImageData.h>
int probe()
{
    return vtkImageData::New() != nullptr;
}
