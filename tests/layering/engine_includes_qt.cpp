// Must NOT compile: masklens_engine gives no access to Qt.
#include <QString>
int probe()
{
    return QString("x").size();
}
