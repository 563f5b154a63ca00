// Must NOT compile in a target linked only to a Qt-free layer
// (masklens_engine, masklens_service): they give no access to Qt.
#include <QString>
int probe()
{
    return QString("x").size();
}
