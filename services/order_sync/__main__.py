from shared.backbone.app import serve
from services.order_sync.main import definition

serve(definition)
