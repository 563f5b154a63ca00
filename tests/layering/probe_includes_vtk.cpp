// Must NOT compile in a target linked only to a VTK-free layer
// (masklens_engine, masklens_service): they give no access to VTK.
#include <vtkImageData.h>
int probe()
{
    return vtkImageData::New() != nullptr;
}
