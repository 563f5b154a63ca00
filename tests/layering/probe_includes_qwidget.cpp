// Must NOT compile in a target linked only to the app's model layer
// (masklens_ui_model: Qt Core and Concurrent): it gives no access to widgets.
#include <QWidget>
int probe()
{
    return QWidget().width();
}
